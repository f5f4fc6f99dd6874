/**
 * Waymark's embedded journal: one SQLite file in WAL mode, opened with better-sqlite3.
 *
 * Several processes on one machine may open the same file. WAL mode needs shared memory, so the file
 * must not be on a network file system (https://www.sqlite.org/wal.html). Every write runs in an
 * IMMEDIATE transaction, so the insert-if-absent of `create` and the sequence check of `append` hold
 * across connections.
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

// The schema version this code writes, stored in `waymark_meta`. A file with a higher version was
// written by a newer release and is rejected on open.
const schemaVersion = 1

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
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX executions_by_status ON executions (status, created_at);
  CREATE TABLE events (
    execution_id TEXT NOT NULL REFERENCES executions (execution_id),
    sequence INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (execution_id, sequence)
  ) WITHOUT ROWID;
`

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
  updatedAt: row.updated_at
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

// Runs inside an IMMEDIATE transaction, so two processes that open a new file at the same time
// create the schema once.
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
}

const messageOf = (error: unknown): string => error instanceof Error ? error.message : String(error)

/**
 * Opens the journal in `options.filename`, creating the file, its parent folder and the schema when
 * missing. The database is closed when the scope closes.
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

const makeJournal = (db: Database.Database): Journal => {
  const selectExecution = db.prepare<[string], ExecutionRow>("SELECT * FROM executions WHERE execution_id = ?")
  const selectLastSequence = db.prepare<[string], number>(
    "SELECT last_sequence FROM executions WHERE execution_id = ?"
  ).pluck()
  const insertExecution = db.prepare<[string, string, string, number, number, number]>(
    `INSERT INTO executions
       (execution_id, workflow, status, payload, result, status_detail, last_sequence, created_at, updated_at)
     VALUES (?, ?, 'running', ?, NULL, NULL, ?, ?, ?)`
  )
  const insertEvent = db.prepare<[string, number, string, string, number]>(
    "INSERT INTO events (execution_id, sequence, kind, data, recorded_at) VALUES (?, ?, ?, ?, ?)"
  )
  const updateSequence = db.prepare<[number, number, string]>(
    "UPDATE executions SET last_sequence = ?, updated_at = ? WHERE execution_id = ?"
  )
  // A status update without a result keeps the stored result, like the in-memory journal.
  const updateStatus = db.prepare<[string, string | null, string | null, string]>(
    "UPDATE executions SET status = ?, status_detail = ?, result = coalesce(?, result) WHERE execution_id = ?"
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

  const applyStatus = (executionId: string, status: StatusUpdate): void => {
    updateStatus.run(status.status, status.detail ?? null, status.result ?? null, executionId)
  }

  const createTransaction = db.transaction(
    (
      executionId: string,
      workflow: string,
      payload: string,
      first: NewEntry
    ): DurableExecutionJournal.CreateResult => {
      const existing = selectExecution.get(executionId)
      if (existing !== undefined) return { created: false, execution: recordFromRow(existing) }
      insertExecution.run(executionId, workflow, payload, 1, first.recordedAt, first.recordedAt)
      insertEvent.run(executionId, 1, first.kind, first.data, first.recordedAt)
      return { created: true, execution: recordFromRow(selectExecution.get(executionId)!) }
    }
  )

  // Returns undefined after a successful append. When the log's next sequence is not
  // `expectedSequence`, or the execution does not exist, it writes nothing and returns the next
  // sequence (1 for a missing execution).
  const appendTransaction = db.transaction(
    (
      executionId: string,
      expectedSequence: number,
      entries: ReadonlyArray<NewEntry>,
      status: StatusUpdate | undefined
    ): number | undefined => {
      const lastSequence = selectLastSequence.get(executionId)
      const actualSequence = lastSequence === undefined ? 1 : lastSequence + 1
      if (lastSequence === undefined || actualSequence !== expectedSequence) return actualSequence
      for (const [index, entry] of entries.entries()) {
        insertEvent.run(executionId, expectedSequence + index, entry.kind, entry.data, entry.recordedAt)
      }
      const last = entries.at(-1)
      if (last !== undefined) updateSequence.run(lastSequence + entries.length, last.recordedAt, executionId)
      if (status !== undefined) applyStatus(executionId, status)
      return undefined
    }
  )

  const run = <A>(operation: string, executionId: string | undefined, body: () => A) =>
    Effect.try({
      try: body,
      catch: (cause) => new WorkflowError.JournalError({ operation, executionId, cause })
    })

  return {
    create: ({ executionId, workflow, payload, first }) =>
      run("create", executionId, () => createTransaction.immediate(executionId, workflow, payload, first)),

    append: ({ executionId, expectedSequence, entries, status }) =>
      run("append", executionId, () => appendTransaction.immediate(executionId, expectedSequence, entries, status))
        .pipe(
          Effect.flatMap((actualSequence) =>
            actualSequence === undefined
              ? Effect.void
              : Effect.fail(
                new WorkflowError.JournalConflictError({ executionId, expectedSequence, actualSequence })
              )
          )
        ),

    setStatus: (executionId, status) => run("setStatus", executionId, () => applyStatus(executionId, status)),

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
      })
  }
}
