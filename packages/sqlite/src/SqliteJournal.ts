/**
 * Waymark's embedded journal: one SQLite file in WAL mode, opened with better-sqlite3.
 *
 * Several processes on one machine may open the same file. WAL mode needs shared memory, so the file
 * must not be on a network file system (https://www.sqlite.org/wal.html). Every write runs in an
 * IMMEDIATE transaction, so the insert-if-absent of `create`, the lease and sequence checks of
 * `append` and `setStatus`, and `claim` hold across connections. SQLite has no row locks, but its
 * single write lock per database serializes these transactions.
 *
 * Leases are measured with `Date.now()` of each process, so every process that shares a file must
 * run on the same machine, as WAL mode requires anyway. This backend has no `watch`, because SQLite
 * cannot notify other processes of a commit, so engines find claimable executions by polling
 * `claim`.
 *
 * better-sqlite3 is synchronous: each call blocks the calling thread until SQLite returns, which
 * includes the fsync of a commit and, while another connection holds the write lock, a wait of up
 * to 5 seconds.
 *
 * @since 0.1.0
 */
import { DurableExecutionJournal, WorkflowError } from "@waymark/runtime"
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as path from "node:path"

type Journal = DurableExecutionJournal.Journal
type ExecutionRecord = DurableExecutionJournal.ExecutionRecord
type ExecutionStatus = DurableExecutionJournal.ExecutionStatus
type JournalEntry = DurableExecutionJournal.JournalEntry
type NewEntry = DurableExecutionJournal.NewEntry
type StatusUpdate = DurableExecutionJournal.StatusUpdate

// The schema version this code writes, stored in `waymark_meta`. A file with a lower version is
// migrated on open, and a file with a higher version was written by a newer release and is rejected.
const schemaVersion = 2

// How long a statement waits for another connection's lock before it fails with `SQLITE_BUSY`.
const busyTimeoutMillis = 5_000

/**
 * Options of `make` and `layer`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Path of the database file. The file and its parent folder are created when missing. */
  readonly filename: string
}

// The time from which a running execution may be claimed: 0 when no engine owns it, otherwise its
// lease expiry, where a missing expiry counts as 0 like in the in-memory journal. `claim` filters
// on this exact text, because SQLite uses an index on an expression only where the query repeats the
// expression. Changing it needs a migration that recreates `executions_by_claimable_at`.
const claimableAtSql = "(CASE WHEN owner IS NULL THEN 0 ELSE coalesce(lease_expires_at, 0) END)"

// Neither index is partial on `status = 'running'`. Without `ANALYZE` statistics, the query planner
// of SQLite 3.53 (bundled with better-sqlite3 12.11) prefers `executions_by_status` to a partial
// index, because it returns running rows in creation order and needs no sort, and so `claim` would
// scan every running row. With `status` as their first column, the planner picks these indexes
// (checked with EXPLAIN QUERY PLAN).
const leaseIndexesSql = `
  CREATE INDEX executions_by_claimable_at ON executions (status, ${claimableAtSql});
  CREATE INDEX executions_by_owner ON executions (status, owner);
`

// The schema of a new file, at `schemaVersion`. The lease columns come last, where the migration
// from version 1 adds them, so that a new and a migrated file have the same columns.
const schemaSql = `
  CREATE TABLE executions (
    execution_id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    result TEXT,
    status_detail TEXT,
    last_sequence INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    owner TEXT,
    lease_expires_at INTEGER,
    epoch INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX executions_by_status ON executions (status, created_at);
  ${leaseIndexesSql}
  CREATE TABLE events (
    execution_id TEXT NOT NULL REFERENCES executions (execution_id),
    sequence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (execution_id, sequence)
  ) WITHOUT ROWID;
`

// The statements that upgrade a file from the version of the key to the next one.
const migrationSql: Readonly<Record<number, string>> = {
  // Version 2 adds leases. Existing executions get no owner and epoch 0, so any engine can claim
  // those still running.
  1: `
    ALTER TABLE executions ADD COLUMN owner TEXT;
    ALTER TABLE executions ADD COLUMN lease_expires_at INTEGER;
    ALTER TABLE executions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
    ${leaseIndexesSql}
  `
}

interface ExecutionRow {
  readonly execution_id: string
  readonly workflow: string
  readonly status: string
  readonly payload: string
  readonly result: string | null
  readonly status_detail: string | null
  readonly last_sequence: number
  readonly created_at: number
  readonly updated_at: number
  readonly owner: string | null
  readonly lease_expires_at: number | null
  readonly epoch: number
}

interface EventRow {
  readonly execution_id: string
  readonly sequence: number
  readonly kind: string
  readonly data: string
  readonly recorded_at: number
}

// Rows are returned as stored and never validated here. Decoding is the runtime's job, and it parks
// an execution whose row is corrupt, so the row must reach it unchanged.
const recordFromRow = (row: ExecutionRow): ExecutionRecord => ({
  executionId: row.execution_id,
  workflow: row.workflow,
  status: row.status as ExecutionStatus,
  payload: row.payload,
  result: row.result ?? undefined,
  statusDetail: row.status_detail ?? undefined,
  lastSequence: row.last_sequence,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  owner: row.owner ?? undefined,
  leaseExpiresAt: row.lease_expires_at ?? undefined,
  epoch: row.epoch
})

const entryFromRow = (row: EventRow): JournalEntry => ({
  executionId: row.execution_id,
  sequence: row.sequence,
  kind: row.kind,
  data: row.data,
  recordedAt: row.recorded_at
})

/**
 * Opens the file, applies the connection settings and creates or checks the schema. Closes the
 * connection before it rethrows, so a failed open leaves no file handle behind.
 */
const openDatabase = (filename: string): Database.Database => {
  fs.mkdirSync(path.dirname(filename), { recursive: true })
  const db = new Database(filename)
  try {
    // Set the busy timeout first, because switching to WAL takes a lock that another process may
    // hold.
    db.pragma(`busy_timeout = ${busyTimeoutMillis}`)
    db.pragma("journal_mode = WAL")
    // In WAL mode, `synchronous = NORMAL` may lose the last commits on power loss
    // (https://www.sqlite.org/pragma.html#pragma_synchronous). FULL syncs the WAL on every commit,
    // and the contract requires a write to be durable when its call returns.
    db.pragma("synchronous = FULL")
    db.pragma("foreign_keys = ON")
    db.transaction(() => migrate(db)).immediate()
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

// Runs inside an IMMEDIATE transaction, and reads the stored version only once the transaction
// holds the write lock. So when two processes open a new or an old file at the same time, one
// creates or migrates the schema, and the other finds it done.
const migrate = (db: Database.Database): void => {
  db.exec("CREATE TABLE IF NOT EXISTS waymark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
  const stored = db.prepare<[], string>("SELECT value FROM waymark_meta WHERE key = 'schema_version'")
    .pluck()
    .get()
  if (stored === undefined) {
    db.exec(schemaSql)
    db.prepare("INSERT INTO waymark_meta (key, value) VALUES ('schema_version', ?)").run(String(schemaVersion))
    return
  }
  const version = Number(stored)
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new Error(
      `the schema_version in waymark_meta is ${JSON.stringify(stored)}, which is not a positive integer. ` +
        `The file is damaged or was not written by @waymark/sqlite`
    )
  }
  if (version > schemaVersion) {
    throw new Error(
      `its schema version is ${version}, but this release of @waymark/sqlite reads only up to version ` +
        `${schemaVersion}. Upgrade @waymark/sqlite to open it`
    )
  }
  if (version === schemaVersion) return
  for (let from = version; from < schemaVersion; from++) {
    db.exec(migrationSql[from]!)
  }
  db.prepare("UPDATE waymark_meta SET value = ? WHERE key = 'schema_version'").run(String(schemaVersion))
}

const messageOf = (error: unknown): string => error instanceof Error ? error.message : String(error)

/**
 * Opens the journal in `options.filename`, creating the file, its parent folder and the schema when
 * missing, and migrating a file written by an older release to the current schema. The database is
 * closed when the scope closes.
 *
 * Fails with a `JournalError` (operation `"open"`) when the file cannot be opened, is not a SQLite
 * database, or records an invalid schema version or one newer than this release reads. Its cause
 * is an `Error` naming the file, whose `cause` is the underlying error (from better-sqlite3, or
 * from Node when the folder cannot be created).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Journal, WorkflowError.JournalError, Scope.Scope> =>
  Effect.gen(function*() {
    const { filename } = options
    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => openDatabase(filename),
        catch: (error) =>
          new WorkflowError.JournalError({
            operation: "open",
            cause: new Error(`Cannot open the journal file "${filename}": ${messageOf(error)}`, { cause: error }),
            hint: "Check the path, and that the file is a Waymark journal that this release can read."
          })
      }),
      (db) =>
        Effect.try({
          try: () => db.close(),
          catch: (error) => error
        }).pipe(
          Effect.ignore({ log: "Error", message: `Failed to close the journal file "${filename}"` })
        )
    )
    return yield* Effect.try({
      try: () => makeJournal(db),
      catch: (cause) => new WorkflowError.JournalError({ operation: "open", cause })
    })
  })

/**
 * A layer providing the journal in `options.filename`. The database stays open as long as the
 * layer's scope.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<DurableExecutionJournal.DurableExecutionJournal, WorkflowError.JournalError> =>
  Layer.effect(DurableExecutionJournal.DurableExecutionJournal, make(options))

type AppendInput = Parameters<Journal["append"]>[0]
type ClaimInput = Parameters<Journal["claim"]>[0]
type Lease = DurableExecutionJournal.Lease

// A write that the journal rejected on purpose, with nothing written. Any other failure is thrown.
type Rejection = WorkflowError.JournalConflictError | WorkflowError.LeaseLostError

// The columns that decide whether an append or a status change is accepted.
interface FenceRow {
  readonly last_sequence: number
  readonly owner: string | null
  readonly epoch: number
}

const holdsLease = (row: FenceRow, lease: Lease): boolean =>
  row.owner === lease.engineId && row.epoch === lease.epoch

const leaseLost = (executionId: string, lease: Lease) =>
  new WorkflowError.LeaseLostError({ executionId, engineId: lease.engineId, epoch: lease.epoch })

// Converts `claim`'s limit to a SQLite LIMIT, with the in-memory journal's results: a limit of 0 or
// less claims nothing, a fractional one is rounded up, and NaN or Infinity claim every claimable
// execution. SQLite reads a negative LIMIT as no limit and rejects a fractional one.
const sqlLimit = (limit: number): number =>
  Number.isNaN(limit) || limit === Infinity ? -1 : Math.max(0, Math.ceil(limit))

const makeJournal = (db: Database.Database): Journal => {
  const selectExecution = db.prepare<[string], ExecutionRow>("SELECT * FROM executions WHERE execution_id = ?")
  const selectFence = db.prepare<[string], FenceRow>(
    "SELECT last_sequence, owner, epoch FROM executions WHERE execution_id = ?"
  )
  const insertExecution = db.prepare<{
    executionId: string
    workflow: string
    payload: string
    createdAt: number
    owner: string | null
    leaseExpiresAt: number | null
    epoch: number
  }>(
    `INSERT INTO executions
       (execution_id, workflow, status, payload, result, status_detail, last_sequence, created_at, updated_at,
        owner, lease_expires_at, epoch)
     VALUES (@executionId, @workflow, 'running', @payload, NULL, NULL, 1, @createdAt, @createdAt,
        @owner, @leaseExpiresAt, @epoch)`
  )
  const insertEvent = db.prepare<[string, number, string, string, number]>(
    "INSERT INTO events (execution_id, sequence, kind, data, recorded_at) VALUES (?, ?, ?, ?, ?)"
  )
  const updateSequence = db.prepare<[number, number, string]>(
    "UPDATE executions SET last_sequence = ?, updated_at = ? WHERE execution_id = ?"
  )
  // A status update without a result keeps the stored result, and one without `updatedAt` keeps
  // the stored time, like the in-memory journal. A status other than `running` drops the lease and
  // keeps the epoch, so a later claim still gets a higher epoch than any earlier lease.
  const updateStatus = db.prepare<{
    executionId: string
    status: string
    detail: string | null
    result: string | null
    updatedAt: number | null
  }>(
    `UPDATE executions SET
       status = @status,
       status_detail = @detail,
       result = coalesce(@result, result),
       updated_at = coalesce(@updatedAt, updated_at),
       owner = CASE WHEN @status = 'running' THEN owner ELSE NULL END,
       lease_expires_at = CASE WHEN @status = 'running' THEN lease_expires_at ELSE NULL END
     WHERE execution_id = @executionId`
  )
  const selectEvents = db.prepare<[string], EventRow>(
    "SELECT execution_id, sequence, kind, data, recorded_at FROM events WHERE execution_id = ? ORDER BY sequence"
  )
  // Creation order: created_at, then rowid for executions created in the same millisecond.
  const selectAll = db.prepare<[], ExecutionRow>("SELECT * FROM executions ORDER BY created_at, rowid")
  const selectByStatus = db.prepare<[string], ExecutionRow>(
    `SELECT * FROM executions WHERE status IN (SELECT value FROM json_each(?))
     ORDER BY created_at, rowid`
  )

  // The three queries of `claim`, each returning ids in creation order. Each branch of the UNION ALL
  // uses one index. A row owned by this engine whose lease has lapsed matches both branches, and
  // `rowid IN` counts it once.
  // @workflows is a JSON array of workflow names, or NULL for every workflow.
  const workflowFilterSql = "(@workflows IS NULL OR workflow IN (SELECT value FROM json_each(@workflows)))"
  const selectClaimable = db.prepare<{ now: number; limit: number; workflows: string | null }, string>(
    `SELECT execution_id FROM executions
     WHERE status = 'running' AND ${claimableAtSql} <= @now AND ${workflowFilterSql}
     ORDER BY created_at, rowid LIMIT @limit`
  ).pluck()
  const selectClaimableOrOwned = db.prepare<
    { now: number; limit: number; engineId: string; workflows: string | null },
    string
  >(
    `SELECT execution_id FROM executions
     WHERE rowid IN (
       SELECT rowid FROM executions WHERE status = 'running' AND ${claimableAtSql} <= @now
       UNION ALL
       SELECT rowid FROM executions WHERE status = 'running' AND owner = @engineId
     ) AND ${workflowFilterSql}
     ORDER BY created_at, rowid LIMIT @limit`
  ).pluck()
  const selectClaimableById = db.prepare<
    { now: number; limit: number; engineId: string; executionId: string; includeOwn: number; workflows: string | null },
    string
  >(
    `SELECT execution_id FROM executions
     WHERE execution_id = @executionId AND status = 'running'
       AND (${claimableAtSql} <= @now OR (@includeOwn AND owner = @engineId)) AND ${workflowFilterSql}
     LIMIT @limit`
  ).pluck()
  const updateClaim = db.prepare<{ executionId: string; engineId: string; leaseExpiresAt: number }, ExecutionRow>(
    `UPDATE executions SET owner = @engineId, lease_expires_at = @leaseExpiresAt, epoch = epoch + 1
     WHERE execution_id = @executionId
     RETURNING *`
  )
  // RETURNING yields rows in no defined order, so rowid and created_at come back for sorting.
  const updateRenew = db.prepare<
    { engineId: string; leaseExpiresAt: number },
    { execution_id: string; epoch: number; created_at: number; rowid: number }
  >(
    `UPDATE executions SET lease_expires_at = @leaseExpiresAt
     WHERE status = 'running' AND owner = @engineId
     RETURNING execution_id, epoch, created_at, rowid`
  )
  const updateRelease = db.prepare<{ engineId: string; executionIds: string }>(
    `UPDATE executions SET owner = NULL, lease_expires_at = NULL
     WHERE execution_id IN (SELECT value FROM json_each(@executionIds))
       AND status = 'running' AND owner = @engineId`
  )

  const applyStatus = (executionId: string, status: StatusUpdate, updatedAt: number | null): void => {
    updateStatus.run({
      executionId,
      status: status.status,
      detail: status.detail ?? null,
      result: status.result ?? null,
      updatedAt
    })
  }

  // The lease of `owner` starts when the transaction holds the write lock, not when the call was
  // made, because waiting for the lock may take up to `busyTimeoutMillis`. The same applies to the
  // other transactions that read `Date.now()`.
  const createTransaction = db.transaction(
    (input: Parameters<Journal["create"]>[0]): DurableExecutionJournal.CreateResult => {
      const { executionId, workflow, payload, first, owner } = input
      const existing = selectExecution.get(executionId)
      if (existing !== undefined) return { created: false, execution: recordFromRow(existing) }
      insertExecution.run({
        executionId,
        workflow,
        payload,
        createdAt: first.recordedAt,
        owner: owner?.engineId ?? null,
        leaseExpiresAt: owner === undefined ? null : Date.now() + owner.leaseMs,
        epoch: owner === undefined ? 0 : 1
      })
      insertEvent.run(executionId, 1, first.kind, first.data, first.recordedAt)
      return { created: true, execution: recordFromRow(selectExecution.get(executionId)!) }
    }
  )

  // Checks in the in-memory journal's order: a missing execution is a conflict at sequence 1, then
  // a stale lease is rejected whatever the sequence, then the sequence is checked.
  const appendTransaction = db.transaction((input: AppendInput): Rejection | undefined => {
    const { executionId, expectedSequence, entries, status, lease } = input
    const fence = selectFence.get(executionId)
    if (fence === undefined) {
      return new WorkflowError.JournalConflictError({ executionId, expectedSequence, actualSequence: 1 })
    }
    if (lease !== undefined && !holdsLease(fence, lease)) return leaseLost(executionId, lease)
    const actualSequence = fence.last_sequence + 1
    if (actualSequence !== expectedSequence) {
      return new WorkflowError.JournalConflictError({ executionId, expectedSequence, actualSequence })
    }
    for (const [index, entry] of entries.entries()) {
      insertEvent.run(executionId, expectedSequence + index, entry.kind, entry.data, entry.recordedAt)
    }
    const last = entries.at(-1)
    if (last !== undefined) updateSequence.run(fence.last_sequence + entries.length, last.recordedAt, executionId)
    if (status !== undefined) applyStatus(executionId, status, null)
    return undefined
  })

  // An unknown execution is no error and writes nothing, whether or not a lease is given.
  const setStatusTransaction = db.transaction(
    (
      executionId: string,
      status: StatusUpdate,
      lease: Lease | undefined
    ): WorkflowError.LeaseLostError | undefined => {
      const fence = selectFence.get(executionId)
      if (fence === undefined) return undefined
      if (lease !== undefined && !holdsLease(fence, lease)) return leaseLost(executionId, lease)
      applyStatus(executionId, status, Date.now())
      return undefined
    }
  )

  const selectClaimIds = (input: ClaimInput, now: number): ReadonlyArray<string> => {
    const { engineId, executionId } = input
    const limit = sqlLimit(input.limit)
    const includeOwn = input.includeOwn === true
    const workflows = input.workflows === undefined ? null : JSON.stringify(input.workflows)
    if (executionId !== undefined) {
      return selectClaimableById.all({ now, limit, engineId, executionId, includeOwn: includeOwn ? 1 : 0, workflows })
    }
    if (includeOwn) return selectClaimableOrOwned.all({ now, limit, engineId, workflows })
    return selectClaimable.all({ now, limit, workflows })
  }

  const claimTransaction = db.transaction((input: ClaimInput): ReadonlyArray<ExecutionRecord> => {
    const now = Date.now()
    const leaseExpiresAt = now + input.leaseMs
    return selectClaimIds(input, now).map((executionId) =>
      recordFromRow(updateClaim.get({ executionId, engineId: input.engineId, leaseExpiresAt })!)
    )
  })

  const renewTransaction = db.transaction((engineId: string, leaseMs: number) =>
    updateRenew.all({ engineId, leaseExpiresAt: Date.now() + leaseMs })
      .sort((a, b) => a.created_at - b.created_at || a.rowid - b.rowid)
      .map((row) => ({ executionId: row.execution_id, epoch: row.epoch }))
  )

  const releaseTransaction = db.transaction((engineId: string, executionIds: ReadonlyArray<string>) => {
    updateRelease.run({ engineId, executionIds: JSON.stringify(executionIds) })
  })

  const run = <A>(operation: string, executionId: string | undefined, body: () => A) =>
    Effect.try({
      try: body,
      catch: (cause) => new WorkflowError.JournalError({ operation, executionId, cause })
    })

  const failOnRejection = <E extends Rejection>(rejection: E | undefined): Effect.Effect<void, E> =>
    rejection === undefined ? Effect.void : Effect.fail(rejection)

  return {
    create: (input) => run("create", input.executionId, () => createTransaction.immediate(input)),

    append: (input) =>
      run("append", input.executionId, () => appendTransaction.immediate(input)).pipe(
        Effect.flatMap(failOnRejection)
      ),

    setStatus: (executionId, status, lease) =>
      run("setStatus", executionId, () => setStatusTransaction.immediate(executionId, status, lease)).pipe(
        Effect.flatMap(failOnRejection)
      ),

    read: (executionId) => run("read", executionId, () => selectEvents.all(executionId).map(entryFromRow)),

    find: (executionId) =>
      run("find", executionId, () => {
        const row = selectExecution.get(executionId)
        return row === undefined ? undefined : recordFromRow(row)
      }),

    list: (filter) =>
      run("list", undefined, () => {
        const rows = filter?.status === undefined
          ? selectAll.all()
          : selectByStatus.all(JSON.stringify(filter.status))
        return rows.map(recordFromRow)
      }),

    claim: (input) => run("claim", input.executionId, () => claimTransaction.immediate(input)),

    renew: ({ engineId, leaseMs }) => run("renew", undefined, () => renewTransaction.immediate(engineId, leaseMs)),

    release: ({ engineId, executionIds }) =>
      run("release", undefined, () => releaseTransaction.immediate(engineId, executionIds))
  }
}
