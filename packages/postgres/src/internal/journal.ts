/**
 * The journal operations on an open connection pool and a migrated schema.
 */
import type { PgClient, PgConnection } from "@effect/sql-pg"
import { type DurableExecutionJournal, WorkflowError } from "@waymark/runtime"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { SqlError } from "effect/sql/SqlError"
import { type ConnectionTarget, toJournalError } from "./errors"
import { channelOf } from "./schema"
import { type EventRow, type ExecutionRow, makeStatements } from "./statements"
import { makeWatch } from "./watch"

type ExecutionRecord = DurableExecutionJournal.ExecutionRecord
type ExecutionStatus = DurableExecutionJournal.ExecutionStatus
type Journal = DurableExecutionJournal.Journal
type JournalEntry = DurableExecutionJournal.JournalEntry

/** The pool, schema and connection target of one journal. */
export interface JournalContext {
  readonly client: PgClient.PgClient
  /** Opens a connection outside the pool, for `watch`. */
  readonly connect: Effect.Effect<PgConnection.PgConnection, SqlError, Scope.Scope>
  /** The schema name as given, for the change channel. */
  readonly schema: string
  /** The schema name as a quoted identifier, for SQL text. */
  readonly quotedSchema: string
  readonly target: ConnectionTarget
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
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  owner: row.owner ?? undefined,
  leaseExpiresAt: row.lease_expires_at === null ? undefined : Number(row.lease_expires_at),
  epoch: row.epoch
})

const entryFromRow = (row: EventRow): JournalEntry => ({
  executionId: row.execution_id,
  sequence: row.sequence,
  kind: row.kind,
  data: row.data,
  recordedAt: Number(row.recorded_at)
})

/**
 * Converts milliseconds to the `bigint` that binds as an `int8` parameter. The columns store whole
 * milliseconds and would drop a fraction, so a fraction is rejected.
 */
const toMillis = (name: string, value: number): bigint => {
  if (!Number.isSafeInteger(value)) {
    throw new Error(`${name} must be a whole number of milliseconds, but it is ${value}`)
  }
  return BigInt(value)
}

// A NUL character or a lone surrogate. PostgreSQL text cannot contain NUL, and UTF-8 cannot encode a
// lone surrogate (the driver's encoder would write U+FFFD in its place, changing the text).
const unstorableCharacter = /[\u0000\p{Cs}]/u

/** Returns `value`, or throws when it contains a character that PostgreSQL text cannot store. */
const checkText = (name: string, value: string): string => {
  const found = unstorableCharacter.exec(value)
  if (found === null) return value
  const code = found[0].charCodeAt(0)
  const character = code === 0 ? "a NUL character" : `a lone surrogate (U+${code.toString(16).toUpperCase()})`
  throw new Error(`${name} contains ${character} at index ${found.index}, which PostgreSQL text cannot store`)
}

const checkOptionalText = (name: string, value: string | undefined): string | null =>
  value === undefined ? null : checkText(name, value)

/** Builds the `JournalError` of an input that the tables cannot store. */
const invalidInput = (operation: string, executionId: string | undefined, cause: unknown) =>
  new WorkflowError.JournalError({
    operation,
    executionId,
    cause,
    hint: "Nothing was sent to the database. Pass times and lease lengths as whole milliseconds, and " +
      "texts without NUL characters or lone surrogates (JSON.stringify escapes both)."
  })

/** The state of an execution that `append` checks. Its fields are `null` for an unknown id. */
interface AppendRow {
  readonly appended?: number
  readonly last_sequence: number | null
  readonly owner: string | null
  readonly epoch: number | null
}

/**
 * Returns the error of an append that fails its checks on `row`, in the order of the in-memory
 * journal: unknown id, stale lease, wrong sequence. Returns `undefined` when `row` passes them.
 */
const appendFailure = (
  executionId: string,
  expectedSequence: number,
  lease: DurableExecutionJournal.Lease | undefined,
  row: AppendRow | undefined
): WorkflowError.JournalConflictError | WorkflowError.LeaseLostError | undefined => {
  if (row === undefined || row.last_sequence === null) {
    return new WorkflowError.JournalConflictError({ executionId, expectedSequence, actualSequence: 1 })
  }
  if (lease !== undefined && (row.owner !== lease.engineId || row.epoch !== lease.epoch)) {
    return new WorkflowError.LeaseLostError({ executionId, engineId: lease.engineId, epoch: lease.epoch })
  }
  if (row.last_sequence + 1 !== expectedSequence) {
    return new WorkflowError.JournalConflictError({
      executionId,
      expectedSequence,
      actualSequence: row.last_sequence + 1
    })
  }
  return undefined
}

export const makeJournal = (context: JournalContext): Journal => {
  const { client, target } = context
  const statements = makeStatements(context.quotedSchema)
  const channel = channelOf(context.schema)

  const query = <Row extends object>(
    operation: string,
    executionId: string | undefined,
    sql: string,
    params: ReadonlyArray<unknown>
  ): Effect.Effect<ReadonlyArray<Row>, WorkflowError.JournalError> =>
    client.unsafe<Row>(sql, params).pipe(
      Effect.mapError((error: SqlError) => toJournalError(target, operation, executionId, error))
    )

  const convert = <A>(operation: string, executionId: string | undefined, convertInput: () => A) =>
    Effect.try({ try: convertInput, catch: (cause) => invalidInput(operation, executionId, cause) })

  const find = (executionId: string) =>
    Effect.map(
      query<ExecutionRow>("find", executionId, statements.find, [executionId]),
      ([row]) => row === undefined ? undefined : recordFromRow(row)
    )

  const leaseLost = (executionId: string, lease: DurableExecutionJournal.Lease) =>
    new WorkflowError.LeaseLostError({ executionId, engineId: lease.engineId, epoch: lease.epoch })

  const journal: Journal = {
    create: ({ executionId, workflow, payload, first, owner }) =>
      Effect.gen(function*() {
        const params = yield* convert("create", executionId, () => [
          checkText("executionId", executionId),
          checkText("workflow", workflow),
          checkText("payload", payload),
          toMillis("first.recordedAt", first.recordedAt),
          checkOptionalText("owner.engineId", owner?.engineId),
          owner === undefined ? null : toMillis("owner.leaseMs", owner.leaseMs),
          checkText("first.kind", first.kind),
          checkText("first.data", first.data),
          channel
        ])
        const [row] = yield* query<ExecutionRow & { readonly created: boolean }>(
          "create",
          executionId,
          statements.create,
          params
        )
        if (row !== undefined) return { created: row.created, execution: recordFromRow(row) }
        // A concurrent create of this id committed after the statement's snapshot, so read its row now.
        const existing = yield* find(executionId)
        if (existing === undefined) {
          return yield* new WorkflowError.JournalError({
            operation: "create",
            executionId,
            cause: new Error("The execution was neither inserted nor found, so another client may have deleted it meanwhile")
          })
        }
        return { created: false, execution: existing }
      }),

    append: ({ executionId, expectedSequence, entries, status, lease }) =>
      Effect.gen(function*() {
        const params = yield* convert("append", executionId, () => {
          const last = entries.at(-1)
          return [
            executionId,
            expectedSequence,
            entries.length,
            last === undefined ? null : toMillis(`entries[${entries.length - 1}].recordedAt`, last.recordedAt),
            entries.map((entry, index) => checkText(`entries[${index}].kind`, entry.kind)),
            entries.map((entry, index) => checkText(`entries[${index}].data`, entry.data)),
            entries.map((entry, index) => toMillis(`entries[${index}].recordedAt`, entry.recordedAt)),
            checkOptionalText("status.status", status?.status),
            checkOptionalText("status.detail", status?.detail),
            checkOptionalText("status.result", status?.result),
            checkOptionalText("lease.engineId", lease?.engineId),
            lease?.epoch ?? null,
            channel
          ]
        })
        const [row] = yield* query<AppendRow>("append", executionId, statements.append, params)
        if (row?.appended === 1) return
        // The statement wrote nothing. A failed append can be placed at the moment of the
        // statement's snapshot, so when the row as of the snapshot fails a check, that check
        // decides the error.
        const fromSnapshot = appendFailure(executionId, expectedSequence, lease, row)
        if (fromSnapshot !== undefined) return yield* fromSnapshot
        // The row as of the snapshot passes every check, so a write committed after the snapshot
        // made the UPDATE fail. Sequence and epoch only grow and a lost lease is never given back,
        // so the row as it is now fails a check too.
        const [latest] = yield* query<AppendRow>("append", executionId, statements.find, [executionId])
        const fromLatest = appendFailure(executionId, expectedSequence, lease, latest)
        if (fromLatest !== undefined) return yield* fromLatest
        // Only a row edited by hand (a sequence lowered, a lease restored) gets here. A conflict
        // makes the engine reload the execution, the safe reaction to a journal it cannot trust.
        return yield* new WorkflowError.JournalConflictError({
          executionId,
          expectedSequence,
          actualSequence: latest!.last_sequence! + 1
        })
      }),

    setStatus: (executionId, status, lease) =>
      Effect.gen(function*() {
        const params = yield* convert("setStatus", executionId, () => [
          executionId,
          checkText("status.status", status.status),
          checkOptionalText("status.detail", status.detail),
          checkOptionalText("status.result", status.result),
          checkOptionalText("lease.engineId", lease?.engineId),
          lease?.epoch ?? null,
          channel
        ])
        const [row] = yield* query<{ readonly updated: number; readonly found: boolean }>(
          "setStatus",
          executionId,
          statements.setStatus,
          params
        )
        // An unknown id is not an error, as in the in-memory journal: there is nothing to change.
        if (row === undefined || row.updated === 1 || !row.found || lease === undefined) return
        return yield* leaseLost(executionId, lease)
      }),

    read: (executionId) =>
      Effect.map(query<EventRow>("read", executionId, statements.read, [executionId]), (rows) => rows.map(entryFromRow)),

    find,

    list: (filter) =>
      Effect.map(
        filter?.status === undefined
          ? query<ExecutionRow>("list", undefined, statements.listAll, [])
          : query<ExecutionRow>("list", undefined, statements.listByStatus, [[...filter.status]]),
        (rows) => rows.map(recordFromRow)
      ),

    claim: ({ engineId, leaseMs, limit, executionId, includeOwn, workflows }) =>
      Effect.gen(function*() {
        // The in-memory journal claims while it has fewer than `limit`, so a fraction rounds up.
        const rowLimit = Math.min(Math.max(0, Math.ceil(limit)), 2_147_483_647)
        const params = yield* convert("claim", executionId, () => [
          checkText("engineId", engineId),
          toMillis("leaseMs", leaseMs),
          rowLimit,
          executionId ?? null,
          includeOwn === true,
          workflows === undefined ? null : [...workflows]
        ])
        const rows = yield* query<ExecutionRow>("claim", executionId, statements.claim, params)
        return rows.map(recordFromRow)
      }),

    renew: ({ engineId, leaseMs }) =>
      Effect.gen(function*() {
        const params = yield* convert("renew", undefined, () => [
          checkText("engineId", engineId),
          toMillis("leaseMs", leaseMs)
        ])
        return yield* query<{ readonly execution_id: string; readonly epoch: number }>(
          "renew",
          undefined,
          statements.renew,
          params
        ).pipe(Effect.map((rows) => rows.map((row) => ({ executionId: row.execution_id, epoch: row.epoch }))))
      }),

    release: ({ engineId, executionIds }) =>
      executionIds.length === 0
        ? Effect.void
        : convert("release", undefined, () => [checkText("engineId", engineId), [...executionIds], channel]).pipe(
          Effect.flatMap((params) => query("release", undefined, statements.release, params)),
          Effect.asVoid
        ),

    watch: makeWatch({ connect: context.connect, channel, target })
  }
  return journal
}
