/**
 * The SQL text of every journal operation, for one schema.
 *
 * Each write is a single statement run outside an explicit transaction, so PostgreSQL commits it on
 * its own (with `synchronous_commit`, the server's default, the commit is flushed to disk before
 * the reply) and one call costs one round trip. Data-modifying CTEs keep the checks, the writes and
 * the `pg_notify` of a change inside that one statement, and a notification is delivered only if
 * the statement commits.
 *
 * `append` and `setStatus` check the sequence and the lease in the WHERE clause of their UPDATE.
 * Under READ COMMITTED, an UPDATE or SELECT FOR UPDATE that meets a row changed by a concurrent
 * writer waits for that writer, then evaluates its WHERE clause again on the row as that writer
 * committed it (PostgreSQL manual, "Read Committed Isolation Level"). So two writers of one
 * execution are serialized, and the second one's checks see the first one's sequence and lease.
 * The statements also return the row as of their snapshot, for the caller to tell which check
 * failed.
 */

/** The journal's clock: the database server's wall clock, in epoch milliseconds. */
const nowMillis = "floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

/** The columns of an `ExecutionRow`, in table order. */
const executionColumns =
  "execution_id, workflow, status, payload, result, status_detail, last_sequence, created_at, updated_at, owner, " +
  "lease_expires_at, epoch"

const prefixed = (alias: string) =>
  executionColumns.split(", ").map((column) => `${alias}.${column}`).join(", ")

/** The JSON payload of a change notification: `JournalChange` as the runtime defines it. */
const changePayload = (alias: string) =>
  `json_build_object('executionId', ${alias}.execution_id, 'status', ${alias}.status, ` +
  `'claimable', ${alias}.status = 'running' AND ${alias}.owner IS NULL)::text`

/**
 * The statements of one schema, given as a quoted identifier. The comment above each statement
 * lists its parameters by number.
 */
export const makeStatements = (schema: string) => ({
  /**
   * $1 execution id, $2 workflow, $3 payload, $4 recordedAt of the first event, $5 owner or NULL,
   * $6 lease length in ms or NULL, $7 kind, $8 data, $9 change channel.
   *
   * Returns the new row with `created = true`, or the existing row with `created = false`. Returns
   * no row when a concurrent `create` of the same id committed after this statement's snapshot:
   * ON CONFLICT waited for it, but the snapshot cannot see its row, so the caller reads it again.
   * The `notified` column only makes PostgreSQL call pg_notify for the inserted row.
   */
  create: `
    WITH inserted AS (
      INSERT INTO ${schema}.executions
        (execution_id, workflow, status, payload, last_sequence, created_at, updated_at, owner, lease_expires_at, epoch)
      VALUES (
        $1, $2, 'running', $3, 1, $4::bigint, $4::bigint, $5::text,
        CASE WHEN $5::text IS NULL THEN NULL ELSE ${nowMillis} + $6::bigint END,
        CASE WHEN $5::text IS NULL THEN 0 ELSE 1 END
      )
      ON CONFLICT (execution_id) DO NOTHING
      RETURNING ${executionColumns}
    ), first_event AS (
      INSERT INTO ${schema}.events (execution_id, sequence, kind, data, recorded_at)
      SELECT execution_id, 1, $7, $8, $4::bigint FROM inserted
    )
    SELECT true AS created, ${prefixed("i")}, pg_notify($9, ${changePayload("i")})::text AS notified
    FROM inserted AS i
    UNION ALL
    SELECT false AS created, ${prefixed("e")}, NULL AS notified
    FROM ${schema}.executions AS e
    WHERE e.execution_id = $1 AND NOT EXISTS (SELECT FROM inserted)`,

  /**
   * $1 execution id, $2 expected sequence, $3 number of entries, $4 recordedAt of the last entry or
   * NULL, $5 kinds, $6 data, $7 recordedAt values, $8 new status or NULL, $9 status detail,
   * $10 result or NULL, $11 lease engine id or NULL, $12 lease epoch, $13 change channel.
   *
   * Returns one row: `appended` (1 when the checks passed and the events were written, else 0),
   * and the execution's `last_sequence`, `owner` and `epoch` as of the statement's snapshot, which
   * are NULL when the id was unknown then. The events are one multi-row INSERT from the unnested
   * arrays, numbered from $2.
   */
  append: `
    WITH updated AS (
      UPDATE ${schema}.executions AS e SET
        last_sequence = e.last_sequence + $3::integer,
        updated_at = coalesce($4::bigint, e.updated_at),
        status = coalesce($8::text, e.status),
        status_detail = CASE WHEN $8::text IS NULL THEN e.status_detail ELSE $9::text END,
        result = coalesce($10::text, e.result),
        owner = CASE WHEN coalesce($8::text, 'running') = 'running' THEN e.owner END,
        lease_expires_at = CASE WHEN coalesce($8::text, 'running') = 'running' THEN e.lease_expires_at END
      WHERE e.execution_id = $1
        AND e.last_sequence = $2::integer - 1
        AND ($11::text IS NULL OR (e.owner = $11::text AND e.epoch = $12::integer))
      RETURNING e.execution_id, e.status, e.owner
    ), inserted AS (
      INSERT INTO ${schema}.events (execution_id, sequence, kind, data, recorded_at)
      SELECT u.execution_id, $2::integer + entry.position - 1, entry.kind, entry.data, entry.recorded_at
      FROM updated AS u,
        unnest($5::text[], $6::text[], $7::bigint[]) WITH ORDINALITY AS entry (kind, data, recorded_at, position)
    )
    SELECT
      (SELECT count(*) FROM updated)::integer AS appended,
      (SELECT count(pg_notify($13, ${changePayload("u")})) FROM updated AS u WHERE $8::text IS NOT NULL)::integer
        AS notified,
      snapshot.last_sequence, snapshot.owner, snapshot.epoch
    FROM (SELECT) AS one_row
    LEFT JOIN ${schema}.executions AS snapshot ON snapshot.execution_id = $1`,

  /**
   * $1 execution id, $2 status, $3 detail, $4 result or NULL, $5 lease engine id or NULL,
   * $6 lease epoch, $7 change channel.
   *
   * Returns one row: `updated`, the number of rows changed and notified (1 when the lease check
   * passed), and `found`, whether the id existed as of the statement's snapshot.
   */
  setStatus: `
    WITH updated AS (
      UPDATE ${schema}.executions AS e SET
        status = $2::text,
        status_detail = $3::text,
        result = coalesce($4::text, e.result),
        updated_at = ${nowMillis},
        owner = CASE WHEN $2::text = 'running' THEN e.owner END,
        lease_expires_at = CASE WHEN $2::text = 'running' THEN e.lease_expires_at END
      WHERE e.execution_id = $1
        AND ($5::text IS NULL OR (e.owner = $5::text AND e.epoch = $6::integer))
      RETURNING e.execution_id, e.status, e.owner
    )
    SELECT
      (SELECT count(pg_notify($7, ${changePayload("u")})) FROM updated AS u)::integer AS updated,
      EXISTS (SELECT FROM ${schema}.executions WHERE execution_id = $1) AS found`,

  /** $1 execution id. */
  read: `
    SELECT execution_id, sequence, kind, data, recorded_at FROM ${schema}.events
    WHERE execution_id = $1 ORDER BY sequence`,

  /** $1 execution id. */
  find: `SELECT ${executionColumns} FROM ${schema}.executions WHERE execution_id = $1`,

  listAll: `SELECT ${executionColumns} FROM ${schema}.executions ORDER BY created_at, insertion_order`,

  /** $1 statuses. */
  listByStatus: `
    SELECT ${executionColumns} FROM ${schema}.executions
    WHERE status = ANY ($1::text[]) ORDER BY created_at, insertion_order`,

  /**
   * $1 engine id, $2 lease length in ms, $3 limit, $4 execution id or NULL, $5 include own,
   * $6 workflow names or NULL for every workflow.
   *
   * SKIP LOCKED passes over rows that another transaction has locked (a concurrent claim or
   * write), so two claims never take one execution and a claim never waits for a row lock. FOR
   * UPDATE evaluates the conditions again on the latest version of each row it locks, so an
   * execution claimed and committed since this statement's snapshot is left out.
   */
  claim: `
    WITH candidates AS (
      SELECT execution_id FROM ${schema}.executions
      WHERE status = 'running'
        AND ($4::text IS NULL OR execution_id = $4::text)
        AND ($6::text[] IS NULL OR workflow = ANY ($6::text[]))
        AND (owner IS NULL OR coalesce(lease_expires_at, 0) <= ${nowMillis} OR ($5::boolean AND owner = $1::text))
      ORDER BY created_at, insertion_order
      LIMIT $3::integer
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE ${schema}.executions AS e SET
        owner = $1::text,
        lease_expires_at = ${nowMillis} + $2::bigint,
        epoch = e.epoch + 1
      FROM candidates AS c
      WHERE e.execution_id = c.execution_id
      RETURNING e.*
    )
    SELECT ${executionColumns} FROM claimed ORDER BY created_at, insertion_order`,

  /** $1 engine id, $2 lease length in ms. */
  renew: `
    WITH renewed AS (
      UPDATE ${schema}.executions SET lease_expires_at = ${nowMillis} + $2::bigint
      WHERE owner = $1::text AND status = 'running'
      RETURNING execution_id, epoch, created_at, insertion_order
    )
    SELECT execution_id, epoch FROM renewed ORDER BY created_at, insertion_order`,

  /** $1 engine id, $2 execution ids, $3 change channel. */
  release: `
    WITH released AS (
      UPDATE ${schema}.executions SET owner = NULL, lease_expires_at = NULL
      WHERE execution_id = ANY ($2::text[]) AND owner = $1::text AND status = 'running'
      RETURNING execution_id, status, owner
    )
    SELECT count(pg_notify($3, ${changePayload("r")}))::integer AS released FROM released AS r`
})

/** The statements of one schema, as `makeStatements` returns them. */
export type Statements = ReturnType<typeof makeStatements>

/** A row of `executions`, as the driver decodes it: `bigint` columns arrive as JS `bigint`. */
export interface ExecutionRow {
  readonly execution_id: string
  readonly workflow: string
  readonly status: string
  readonly payload: string
  readonly result: string | null
  readonly status_detail: string | null
  readonly last_sequence: number
  readonly created_at: bigint
  readonly updated_at: bigint
  readonly owner: string | null
  readonly lease_expires_at: bigint | null
  readonly epoch: number
}

/** A row of `events`. */
export interface EventRow {
  readonly execution_id: string
  readonly sequence: number
  readonly kind: string
  readonly data: string
  readonly recorded_at: bigint
}
