import {
  Activity,
  DurableExecutionJournal,
  InMemoryJournal,
  Workflow,
  WorkflowEngine,
  WorkflowError,
  WorkflowRequest
} from "@waymark/runtime"
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { Worker } from "node:worker_threads"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { SqliteJournal } from "../src/index"

type Journal = DurableExecutionJournal.Journal
type ExecutionRecord = DurableExecutionJournal.ExecutionRecord

let folder: string
let filename: string

beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "waymark-sqlite-"))
  filename = path.join(folder, "journal.db")
})

afterEach(() => {
  vi.useRealTimers()
  fs.rmSync(folder, { recursive: true, force: true })
})

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> =>
  Effect.runPromise(Effect.scoped(effect))

/** Runs `body` on a journal opened on `filename`, and closes the journal afterwards. */
const withJournal = <A, E>(body: (journal: Journal) => Effect.Effect<A, E>): Promise<A> =>
  run(Effect.flatMap(SqliteJournal.make({ filename }), body))

/** Opens a plain better-sqlite3 connection, for writing and inspecting the file behind the journal's back. */
const withConnection = <A>(body: (db: Database.Database) => A): A => {
  const db = new Database(filename)
  try {
    return body(db)
  } finally {
    db.close()
  }
}

const entry = (kind: string, recordedAt: number): DurableExecutionJournal.NewEntry => ({
  kind,
  data: JSON.stringify({ _tag: kind, at: recordedAt }),
  recordedAt
})

const createInput = (executionId: string, recordedAt = 1_000) => ({
  executionId,
  workflow: "Pay",
  payload: JSON.stringify({ orderId: executionId }),
  first: entry("Started", recordedAt)
})

// The clock of the parity test, which fakes `Date` so that both journals see the same times.
const startTime = 1_700_000_000_000

/** Sets the faked `Date.now()` to `offset` milliseconds after `startTime`. */
const setClock = (offset: number) => Effect.sync(() => vi.setSystemTime(startTime + offset))

/** Exercises every method, and returns what each call returned or failed with. */
const exerciseJournal = (journal: Journal) =>
  Effect.gen(function*() {
    const outcomes: Array<unknown> = []
    const failure = <E extends object>(effect: Effect.Effect<unknown, E>) =>
      Effect.map(Effect.flip(effect), (error) => ({ ...error }))
    const lease = (engineId: string, epoch: number) => ({ engineId, epoch })

    outcomes.push(yield* journal.create(createInput("a", 100)))
    outcomes.push(yield* journal.create(createInput("b", 100)))
    outcomes.push(yield* journal.create({ ...createInput("a", 500), payload: "other" }))
    outcomes.push(
      yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 200), entry("Y", 210)] })
    )
    outcomes.push(yield* failure(journal.append({ executionId: "a", expectedSequence: 3, entries: [entry("Z", 1)] })))
    outcomes.push(yield* failure(journal.append({ executionId: "none", expectedSequence: 2, entries: [] })))
    outcomes.push(
      yield* journal.append({
        executionId: "b",
        expectedSequence: 2,
        entries: [entry("Completed", 300)],
        status: { status: "completed", result: `{"ok":true}` }
      })
    )
    outcomes.push(yield* journal.setStatus("b", { status: "parked", detail: "operator check" }))
    outcomes.push(
      yield* journal.append({ executionId: "a", expectedSequence: 4, entries: [], status: { status: "paused" } })
    )
    outcomes.push(yield* journal.setStatus("none", { status: "failed" }))
    outcomes.push(yield* journal.read("a"))
    outcomes.push(yield* journal.read("b"))
    outcomes.push(yield* journal.read("none"))
    outcomes.push(yield* journal.find("a"))
    outcomes.push(yield* journal.find("b"))
    outcomes.push(yield* journal.find("none"))
    outcomes.push(yield* journal.list())
    outcomes.push(yield* journal.list({ status: ["parked"] }))
    outcomes.push(yield* journal.list({ status: [] }))

    // Leases. "a" is paused and "b" parked, so neither is claimable.
    const owned = (engineId: string, leaseMs: number) => ({ engineId, leaseMs })
    outcomes.push(yield* journal.create({ ...createInput("c", 400), owner: owned("e1", 1_000) }))
    outcomes.push(yield* journal.create(createInput("d", 410)))
    outcomes.push(yield* journal.create({ ...createInput("e", 420), owner: owned("e2", 5_000) }))
    outcomes.push(yield* journal.create({ ...createInput("c", 900), owner: owned("e2", 1_000) }))
    // The lease is checked before the sequence, and an unknown id fails on the sequence.
    outcomes.push(
      yield* failure(journal.append({ executionId: "c", expectedSequence: 99, entries: [], lease: lease("e1", 0) }))
    )
    outcomes.push(
      yield* failure(journal.append({ executionId: "c", expectedSequence: 3, entries: [], lease: lease("e1", 1) }))
    )
    outcomes.push(
      yield* failure(journal.append({ executionId: "none", expectedSequence: 2, entries: [], lease: lease("e1", 1) }))
    )
    outcomes.push(
      yield* failure(journal.append({ executionId: "d", expectedSequence: 2, entries: [], lease: lease("e1", 1) }))
    )
    outcomes.push(
      yield* journal.append({
        executionId: "c",
        expectedSequence: 2,
        entries: [entry("X", 430)],
        status: { status: "running", detail: "step" },
        lease: lease("e1", 1)
      })
    )
    outcomes.push(yield* journal.claim({ engineId: "e3", leaseMs: 1_000, limit: 10 }))
    outcomes.push(yield* journal.claim({ engineId: "e3", leaseMs: 1_000, limit: 10 }))

    // At 2 000 ms the leases of "c" and "d" have lapsed, and that of "e" has not.
    yield* setClock(2_000)
    outcomes.push(yield* journal.renew({ engineId: "e1", leaseMs: 1_000 }))
    outcomes.push(yield* journal.claim({ engineId: "e2", leaseMs: 10_000, limit: 1 }))
    outcomes.push(yield* journal.claim({ engineId: "e2", leaseMs: 10_000, limit: 10, includeOwn: true }))
    outcomes.push(yield* failure(journal.setStatus("d", { status: "paused" }, lease("e3", 1))))
    outcomes.push(
      yield* failure(journal.append({ executionId: "d", expectedSequence: 2, entries: [], lease: lease("e2", 2) }))
    )

    yield* setClock(3_500)
    outcomes.push(yield* journal.claim({ engineId: "e3", leaseMs: 1_000, limit: 5, executionId: "c" }))
    outcomes.push(yield* journal.claim({ engineId: "e3", leaseMs: 1_000, limit: 5, executionId: "e" }))
    outcomes.push(
      yield* journal.claim({ engineId: "e3", leaseMs: 1_000, limit: 5, executionId: "e", includeOwn: true })
    )
    outcomes.push(
      yield* journal.claim({ engineId: "e2", leaseMs: 1_000, limit: 5, executionId: "e", includeOwn: true })
    )
    outcomes.push(yield* journal.renew({ engineId: "e2", leaseMs: 2_000 }))
    outcomes.push(yield* journal.release({ engineId: "e2", executionIds: ["d", "c", "none"] }))
    outcomes.push(yield* journal.claim({ engineId: "e1", leaseMs: 1_000, limit: 0 }))
    outcomes.push(yield* journal.claim({ engineId: "e1", leaseMs: 1_000, limit: 1 }))
    outcomes.push(yield* journal.setStatus("d", { status: "paused", detail: "wait" }, lease("e1", 4)))
    outcomes.push(yield* journal.claim({ engineId: "e2", leaseMs: 1_000, limit: 10 }))

    yield* setClock(3_600)
    outcomes.push(yield* journal.setStatus("d", { status: "running" }))
    outcomes.push(
      yield* journal.append({
        executionId: "c",
        expectedSequence: 3,
        entries: [entry("Completed", 440)],
        status: { status: "completed", result: `"done"` },
        lease: lease("e3", 2)
      })
    )
    outcomes.push(yield* journal.claim({ engineId: "e1", leaseMs: 1_000, limit: 5, executionId: "c" }))
    outcomes.push(yield* journal.renew({ engineId: "e3", leaseMs: 1_000 }))
    outcomes.push(yield* journal.setStatus("none", { status: "paused" }, lease("e1", 1)))
    outcomes.push(yield* journal.release({ engineId: "e1", executionIds: ["e"] }))
    outcomes.push(yield* journal.claim({ engineId: "e1", leaseMs: 500, limit: 10 }))
    // A fractional limit is rounded up, so both "f" and "g" are claimed.
    outcomes.push(yield* journal.create(createInput("f", 450)))
    outcomes.push(yield* journal.create(createInput("g", 460)))
    outcomes.push(yield* journal.claim({ engineId: "e4", leaseMs: 1_000, limit: 1.5 }))
    outcomes.push(yield* journal.read("c"))
    outcomes.push(yield* journal.list())
    outcomes.push(yield* journal.list({ status: ["running"] }))
    return outcomes
  })

describe("SqliteJournal", () => {
  it("matches the in-memory journal", async () => {
    vi.useFakeTimers({ toFake: ["Date"] })
    vi.setSystemTime(startTime)
    const expected = await Effect.runPromise(exerciseJournal(InMemoryJournal.make()))
    vi.setSystemTime(startTime)
    const actual = await withJournal(exerciseJournal)
    expect(actual).toEqual(expected)
  })

  it("create writes the row and event 1", async () => {
    const [result, entries, found] = await withJournal((journal) =>
      Effect.all([journal.create(createInput("a", 1_000)), journal.read("a"), journal.find("a")])
    )
    expect(result.created).toBe(true)
    expect(result.execution).toEqual({
      executionId: "a",
      workflow: "Pay",
      status: "running",
      payload: `{"orderId":"a"}`,
      result: undefined,
      statusDetail: undefined,
      lastSequence: 1,
      createdAt: 1_000,
      updatedAt: 1_000,
      owner: undefined,
      leaseExpiresAt: undefined,
      epoch: 0
    })
    expect(entries).toEqual([{ executionId: "a", sequence: 1, ...entry("Started", 1_000) }])
    expect(found).toEqual(result.execution)
  })

  it("create of an existing id writes nothing", async () => {
    const [first, second, entries] = await withJournal((journal) =>
      Effect.all([
        journal.create(createInput("a", 1_000)),
        journal.create({ ...createInput("a", 2_000), workflow: "Other", payload: "{}" }),
        journal.read("a")
      ])
    )
    expect(second.created).toBe(false)
    expect(second.execution).toEqual(first.execution)
    expect(entries).toHaveLength(1)
  })

  it("append numbers entries consecutively", async () => {
    const [entries, found] = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a", 1_000))
        yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 1_100)] })
        yield* journal.append({
          executionId: "a",
          expectedSequence: 3,
          entries: [entry("Y", 1_200), entry("Z", 1_300)]
        })
        return [yield* journal.read("a"), yield* journal.find("a")] as const
      })
    )
    expect(entries.map((e) => [e.sequence, e.kind])).toEqual([[1, "Started"], [2, "X"], [3, "Y"], [4, "Z"]])
    expect(entries[3]).toEqual({ executionId: "a", sequence: 4, ...entry("Z", 1_300) })
    expect(found?.lastSequence).toBe(4)
    expect(found?.updatedAt).toBe(1_300)
    expect(found?.createdAt).toBe(1_000)
    expect(found?.status).toBe("running")
  })

  it("status updates keep result, replace detail", async () => {
    const before = Date.now()
    const steps = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a"))
        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("Completed", 2_000)],
          status: { status: "completed", result: "42", detail: "done" }
        })
        const completed = yield* journal.find("a")
        yield* journal.setStatus("a", { status: "parked", detail: "needs an operator" })
        const parked = yield* journal.find("a")
        yield* journal.append({ executionId: "a", expectedSequence: 3, entries: [], status: { status: "running" } })
        const resumed = yield* journal.find("a")
        return { completed, parked, resumed }
      })
    )
    expect(steps.completed).toMatchObject({ status: "completed", result: "42", statusDetail: "done" })
    expect(steps.completed?.updatedAt).toBe(2_000)
    expect(steps.parked).toMatchObject({ status: "parked", result: "42", statusDetail: "needs an operator" })
    // setStatus stamps the journal's clock, and an append without entries keeps that time.
    expect(steps.parked?.updatedAt).toBeGreaterThanOrEqual(before)
    expect(steps.parked?.updatedAt).toBeLessThanOrEqual(Date.now())
    expect(steps.resumed).toMatchObject({ status: "running", result: "42", statusDetail: undefined })
    expect(steps.resumed?.lastSequence).toBe(2)
    expect(steps.resumed?.updatedAt).toBe(steps.parked?.updatedAt)
  })

  it("append conflict writes nothing", async () => {
    const { error, entries, found } = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a"))
        const error = yield* Effect.flip(
          journal.append({
            executionId: "a",
            expectedSequence: 1,
            entries: [entry("X", 2_000), entry("Y", 2_001)],
            status: { status: "failed", result: "boom" }
          })
        )
        return { error, entries: yield* journal.read("a"), found: yield* journal.find("a") }
      })
    )
    expect(error).toBeInstanceOf(WorkflowError.JournalConflictError)
    expect(error).toMatchObject({ executionId: "a", expectedSequence: 1, actualSequence: 2 })
    expect(entries).toHaveLength(1)
    expect(found).toMatchObject({ status: "running", result: undefined, lastSequence: 1, updatedAt: 1_000 })
  })

  it("append to unknown id conflicts", async () => {
    const error = await withJournal((journal) =>
      Effect.flip(journal.append({ executionId: "none", expectedSequence: 1, entries: [entry("X", 1)] }))
    )
    expect(error).toMatchObject({ _tag: "JournalConflictError", executionId: "none", actualSequence: 1 })
    const entries = await withJournal((journal) => journal.read("none"))
    expect(entries).toEqual([])
  })

  it("unknown ids read empty", async () => {
    const [entries, found] = await withJournal((journal) =>
      Effect.all([journal.read("none"), journal.find("none"), journal.setStatus("none", { status: "failed" })])
    )
    expect(entries).toEqual([])
    expect(found).toBeUndefined()
  })

  it("list orders by creation, filters status", async () => {
    const lists = await withJournal((journal) =>
      Effect.gen(function*() {
        // "c" and "a" share a millisecond, so their order comes from insertion order.
        yield* journal.create(createInput("b", 1_000))
        yield* journal.create(createInput("c", 2_000))
        yield* journal.create(createInput("a", 2_000))
        yield* journal.setStatus("c", { status: "completed", result: "1" })
        yield* journal.setStatus("a", { status: "parked", detail: "stuck" })
        return {
          all: yield* journal.list(),
          undefinedFilter: yield* journal.list({ status: undefined }),
          running: yield* journal.list({ status: ["running"] }),
          finishedOrParked: yield* journal.list({ status: ["parked", "completed"] }),
          none: yield* journal.list({ status: [] })
        }
      })
    )
    const ids = (records: ReadonlyArray<DurableExecutionJournal.ExecutionRecord>) =>
      records.map((record) => record.executionId)
    expect(ids(lists.all)).toEqual(["b", "c", "a"])
    expect(ids(lists.undefinedFilter)).toEqual(["b", "c", "a"])
    expect(ids(lists.running)).toEqual(["b"])
    expect(ids(lists.finishedOrParked)).toEqual(["c", "a"])
    expect(lists.none).toEqual([])
  })

  it("data survives reopening", async () => {
    const before = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a"))
        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("Completed", 3_000)],
          status: { status: "completed", result: `"ok"` }
        })
        return [yield* journal.read("a"), yield* journal.list()] as const
      })
    )
    const after = await withJournal((journal) => Effect.all([journal.read("a"), journal.list()]))
    expect(after).toEqual(before)
    expect(after[1][0]).toMatchObject({ status: "completed", result: `"ok"`, lastSequence: 2 })
  })

  it("creates missing parent folders", async () => {
    filename = path.join(folder, "nested", "deeper", "journal.db")
    const result = await withJournal((journal) => journal.create(createInput("a")))
    expect(result.created).toBe(true)
    expect(fs.existsSync(filename)).toBe(true)
  })

  it("two connections create one execution", async () => {
    const results = await run(
      Effect.gen(function*() {
        const first = yield* SqliteJournal.make({ filename })
        const second = yield* SqliteJournal.make({ filename })
        const created: Array<boolean> = []
        for (let index = 0; index < 10; index++) {
          const [x, y] = index % 2 === 0 ? [first, second] : [second, first]
          const id = `order-${index}`
          created.push((yield* x.create(createInput(id))).created)
          created.push((yield* y.create(createInput(id))).created)
        }
        const conflict = yield* Effect.flip(
          Effect.andThen(
            first.append({ executionId: "order-0", expectedSequence: 2, entries: [entry("X", 2_000)] }),
            second.append({ executionId: "order-0", expectedSequence: 2, entries: [entry("Y", 2_001)] })
          )
        )
        return { created, conflict, entries: yield* second.read("order-0"), listed: yield* first.list() }
      })
    )
    for (let index = 0; index < 10; index++) {
      expect(results.created.slice(index * 2, index * 2 + 2)).toEqual([true, false])
    }
    expect(results.conflict).toMatchObject({ _tag: "JournalConflictError", actualSequence: 3 })
    expect(results.entries.map((e) => e.kind)).toEqual(["Started", "X"])
    expect(results.listed).toHaveLength(10)
  })

  it("waits for another connection's write lock", async () => {
    const holdMillis = 400
    // A plain connection in a worker thread holds the write lock, because better-sqlite3 blocks
    // the test's own thread while the journal waits for the lock.
    const holdLock = () => {
      const worker = new Worker(
        `const { parentPort, workerData } = require("node:worker_threads")
         const Database = require(workerData.driver)
         const db = new Database(workerData.filename)
         db.exec("BEGIN IMMEDIATE")
         parentPort.postMessage("locked")
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMillis)
         db.exec("COMMIT")
         db.close()`,
        {
          eval: true,
          workerData: { driver: createRequire(import.meta.url).resolve("better-sqlite3"), filename, holdMillis }
        }
      )
      const exited = new Promise((resolve) => worker.once("exit", resolve))
      const locked = new Promise((resolve, reject) => {
        worker.once("message", resolve)
        worker.once("error", reject)
      })
      return { exited, locked }
    }

    const { result, waitedMillis, exited } = await withJournal((journal) =>
      Effect.gen(function*() {
        const lock = holdLock()
        yield* Effect.promise(() => lock.locked)
        const started = Date.now()
        const result = yield* journal.create(createInput("a"))
        return { result, waitedMillis: Date.now() - started, exited: lock.exited }
      })
    )
    await exited
    expect(result.created).toBe(true)
    expect(waitedMillis).toBeGreaterThanOrEqual(holdMillis / 2)
  })

  it("read returns corrupt rows unchanged", async () => {
    await withJournal((journal) => journal.create(createInput("a")))
    withConnection((db) => {
      db.prepare("INSERT INTO events VALUES ('a', 2, 'Teleported', '{not json', 5)").run()
      db.prepare("UPDATE executions SET last_sequence = 2, status = 'exploded' WHERE execution_id = 'a'").run()
    })
    const [entries, found] = await withJournal((journal) => Effect.all([journal.read("a"), journal.find("a")]))
    expect(entries[1]).toEqual({ executionId: "a", sequence: 2, kind: "Teleported", data: "{not json", recordedAt: 5 })
    expect(found?.status).toBe("exploded")
  })

  it("records the schema version", async () => {
    await withJournal(() => Effect.void)
    const stored = withConnection((db) => ({
      version: db.prepare("SELECT value FROM waymark_meta WHERE key = 'schema_version'").pluck().get(),
      journalMode: db.pragma("journal_mode", { simple: true }),
      indexes: db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'executions'")
        .pluck()
        .all()
    }))
    expect(stored.version).toBe("2")
    expect(stored.journalMode).toBe("wal")
    expect(stored.indexes).toContain("executions_by_status")
    expect(stored.indexes).toContain("executions_by_claimable_at")
    expect(stored.indexes).toContain("executions_by_owner")
  })

  it("rejects a newer schema version", async () => {
    await withJournal((journal) => journal.create(createInput("a")))
    withConnection((db) => db.prepare("UPDATE waymark_meta SET value = '3' WHERE key = 'schema_version'").run())
    const error = await run(Effect.flip(SqliteJournal.make({ filename })))
    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error.operation).toBe("open")
    expect(error.message).toContain(filename)
    expect(error.message).toContain("schema version is 3")
    expect(error.message).toContain("Upgrade @waymark/sqlite")
    const version = withConnection((db) =>
      db.prepare("SELECT value FROM waymark_meta WHERE key = 'schema_version'").pluck().get()
    )
    expect(version).toBe("3")
  })

  it("rejects an invalid schema version", async () => {
    await withJournal(() => Effect.void)
    withConnection((db) => db.prepare("UPDATE waymark_meta SET value = 'v1' WHERE key = 'schema_version'").run())
    const error = await run(Effect.flip(SqliteJournal.make({ filename })))
    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error.message).toContain(filename)
    expect(error.message).toContain(`"v1", which is not a positive integer`)
  })

  it("rejects a file that is not a database", async () => {
    const content = "order-1,charged\n".repeat(100)
    fs.writeFileSync(filename, content)
    const error = await run(Effect.flip(SqliteJournal.make({ filename })))
    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error.operation).toBe("open")
    expect(error.message).toContain(`"${filename}"`)
    expect(error.message).toContain("not a database")
    expect((error.cause as Error).cause).toBeInstanceOf(Database.SqliteError)
    expect(fs.readFileSync(filename, "utf8")).toBe(content)
  })

  it("rejects a folder path that is a file", async () => {
    fs.writeFileSync(path.join(folder, "file"), "")
    filename = path.join(folder, "file", "journal.db")
    const error = await run(Effect.flip(SqliteJournal.make({ filename })))
    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error.message).toContain(filename)
  })

  it("closes the database with the scope", async () => {
    const scope = await Effect.runPromise(Scope.make())
    const journal = await Effect.runPromise(Scope.provide(scope)(SqliteJournal.make({ filename })))
    await Effect.runPromise(journal.create(createInput("a")))
    expect(fs.existsSync(`${filename}-wal`)).toBe(true)

    await Effect.runPromise(Scope.close(scope, Exit.void))

    // SQLite deletes the WAL file when the last connection to the database closes.
    expect(fs.existsSync(`${filename}-wal`)).toBe(false)
    const error = await Effect.runPromise(Effect.flip(journal.find("a")))
    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error).toMatchObject({ operation: "find", executionId: "a" })
    expect(error.message).toContain("not open")
  })
})

// The schema of version 1, as the release before leases created it.
const version1Sql = `
  CREATE TABLE waymark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  INSERT INTO waymark_meta (key, value) VALUES ('schema_version', '1');
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

/**
 * Writes a version 1 file at `filename` in WAL mode, with one completed execution "done" (two
 * events) and `running` running executions "run-0", "run-1", ... (one event each).
 */
const writeVersion1File = (running: number) =>
  withConnection((db) => {
    db.pragma("journal_mode = WAL")
    db.exec(version1Sql)
    const insertExecution = db.prepare("INSERT INTO executions VALUES (?, 'Pay', ?, '{}', ?, NULL, ?, ?, ?)")
    const insertEvent = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?)")
    db.transaction(() => {
      insertExecution.run("done", "completed", `"paid"`, 2, 100, 200)
      insertEvent.run("done", 1, "Started", `{"_tag":"Started"}`, 100)
      insertEvent.run("done", 2, "Completed", `{"_tag":"Completed"}`, 200)
      for (let index = 0; index < running; index++) {
        insertExecution.run(`run-${index}`, "running", null, 1, 1_000 + index, 1_000 + index)
        insertEvent.run(`run-${index}`, 1, "Started", `{"_tag":"Started"}`, 1_000 + index)
      }
    })()
  })

/** Describes the columns and indexes of `executions`, for comparing two files' schemas. */
const describeExecutionsTable = (file: string) => {
  const db = new Database(file, { readonly: true })
  try {
    const indexNames = db.prepare<[], string>(
      "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'executions' ORDER BY name"
    ).pluck().all()
    return {
      columns: db.pragma("table_info(executions)"),
      indexes: indexNames.map((name) => ({ name, columns: db.pragma(`index_xinfo(${name})`) }))
    }
  } finally {
    db.close()
  }
}

const sleep = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

const ids = (records: ReadonlyArray<ExecutionRecord>) => records.map((record) => record.executionId)

describe("SqliteJournal migration", () => {
  it("migrates a version 1 file", async () => {
    writeVersion1File(2)
    const before = withConnection((db) => ({
      executions: db.prepare("SELECT * FROM executions ORDER BY rowid").all(),
      events: db.prepare("SELECT * FROM events ORDER BY execution_id, sequence").all()
    }))

    const { done, entries, claimed } = await withJournal((journal) =>
      Effect.gen(function*() {
        return {
          done: yield* journal.find("done"),
          entries: yield* journal.read("done"),
          claimed: yield* journal.claim({ engineId: "e1", leaseMs: 60_000, limit: 10 })
        }
      })
    )

    expect(done).toEqual({
      executionId: "done",
      workflow: "Pay",
      status: "completed",
      payload: "{}",
      result: `"paid"`,
      statusDetail: undefined,
      lastSequence: 2,
      createdAt: 100,
      updatedAt: 200,
      owner: undefined,
      leaseExpiresAt: undefined,
      epoch: 0
    })
    expect(entries.map((e) => [e.sequence, e.kind, e.recordedAt])).toEqual([[1, "Started", 100], [2, "Completed", 200]])
    expect(ids(claimed)).toEqual(["run-0", "run-1"])
    expect(claimed.map((record) => record.epoch)).toEqual([1, 1])

    const after = withConnection((db) => ({
      version: db.prepare("SELECT value FROM waymark_meta WHERE key = 'schema_version'").pluck().get(),
      executions: db.prepare(
        `SELECT execution_id, workflow, status, payload, result, status_detail, last_sequence, created_at, updated_at
         FROM executions ORDER BY rowid`
      ).all(),
      events: db.prepare("SELECT * FROM events ORDER BY execution_id, sequence").all()
    }))
    expect(after.version).toBe("2")
    expect(after.executions).toEqual(before.executions)
    expect(after.events).toEqual(before.events)
  })

  it("migrated file matches a new file", async () => {
    writeVersion1File(0)
    await withJournal(() => Effect.void)
    const migrated = describeExecutionsTable(filename)

    filename = path.join(folder, "new.db")
    await withJournal(() => Effect.void)
    const created = describeExecutionsTable(filename)

    expect(migrated).toEqual(created)
    expect(created.indexes.map((index) => index.name)).toEqual([
      "executions_by_claimable_at",
      "executions_by_owner",
      "executions_by_status",
      "sqlite_autoindex_executions_1"
    ])
  })

  it("failed migration changes nothing", async () => {
    writeVersion1File(1)
    // A column named like a new one makes the migration fail halfway, after its first ALTER TABLE.
    withConnection((db) => db.exec("ALTER TABLE executions ADD COLUMN lease_expires_at INTEGER"))
    const columnsBefore = describeExecutionsTable(filename).columns

    const error = await run(Effect.flip(SqliteJournal.make({ filename })))

    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error.message).toContain("duplicate column name")
    const after = withConnection((db) => ({
      version: db.prepare("SELECT value FROM waymark_meta WHERE key = 'schema_version'").pluck().get(),
      columns: db.pragma("table_info(executions)")
    }))
    expect(after.version).toBe("1")
    expect(after.columns).toEqual(columnsBefore)
  })
})

describe("SqliteJournal leases", () => {
  const owner = (engineId: string, leaseMs: number) => ({ engineId, leaseMs })

  it("create with owner leases at epoch 1", async () => {
    const before = Date.now()
    const { withOwner, without, again } = await withJournal((journal) =>
      Effect.gen(function*() {
        return {
          withOwner: yield* journal.create({ ...createInput("a"), owner: owner("e1", 60_000) }),
          without: yield* journal.create(createInput("b")),
          again: yield* journal.create({ ...createInput("b"), owner: owner("e2", 60_000) })
        }
      })
    )
    const after = Date.now()

    expect(withOwner.execution).toMatchObject({ owner: "e1", epoch: 1 })
    expect(withOwner.execution.leaseExpiresAt).toBeGreaterThanOrEqual(before + 60_000)
    expect(withOwner.execution.leaseExpiresAt).toBeLessThanOrEqual(after + 60_000)
    expect(without.execution).toMatchObject({ owner: undefined, leaseExpiresAt: undefined, epoch: 0 })
    expect(again.created).toBe(false)
    expect(again.execution).toEqual(without.execution)
  })

  it("stale lease writes nothing", async () => {
    const result = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create({ ...createInput("a"), owner: owner("e1", 60_000) })
        yield* journal.release({ engineId: "e1", executionIds: ["a"] })
        const claimed = yield* journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 1 })
        const appendError = yield* Effect.flip(
          journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("Completed", 2_000)],
            status: { status: "completed", result: "1" },
            lease: { engineId: "e1", epoch: 1 }
          })
        )
        const setStatusError = yield* Effect.flip(
          journal.setStatus("a", { status: "parked", detail: "late" }, { engineId: "e1", epoch: 1 })
        )
        const foundAfterRejections = yield* journal.find("a")
        const entriesAfterRejections = yield* journal.read("a")
        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("X", 2_000)],
          lease: { engineId: "e2", epoch: 2 }
        })
        return { claimed, appendError, setStatusError, foundAfterRejections, entriesAfterRejections }
      })
    )

    expect(result.claimed).toHaveLength(1)
    expect(result.claimed[0]).toMatchObject({ executionId: "a", owner: "e2", epoch: 2 })
    expect(result.appendError).toBeInstanceOf(WorkflowError.LeaseLostError)
    expect(result.appendError).toMatchObject({ executionId: "a", engineId: "e1", epoch: 1 })
    expect(result.setStatusError).toBeInstanceOf(WorkflowError.LeaseLostError)
    expect(result.setStatusError).toMatchObject({ executionId: "a", engineId: "e1", epoch: 1 })
    expect(result.foundAfterRejections).toEqual(result.claimed[0])
    expect(result.entriesAfterRejections.map((e) => e.kind)).toEqual(["Started"])
    const entries = await withJournal((journal) => journal.read("a"))
    expect(entries.map((e) => e.kind)).toEqual(["Started", "X"])
  })

  it("lease of an unowned execution is stale", async () => {
    const error = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a"))
        return yield* Effect.flip(journal.setStatus("a", { status: "paused" }, { engineId: "e1", epoch: 0 }))
      })
    )
    expect(error).toBeInstanceOf(WorkflowError.LeaseLostError)
    const found = await withJournal((journal) => journal.find("a"))
    expect(found?.status).toBe("running")
  })

  it("release makes a row claimable at once", async () => {
    const steps = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create({ ...createInput("a", 1_000), owner: owner("e1", 60_000) })
        yield* journal.create({ ...createInput("b", 2_000), owner: owner("e1", 60_000) })
        const whileHeld = yield* journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 10 })
        yield* journal.release({ engineId: "e2", executionIds: ["a", "b"] })
        const afterForeignRelease = yield* journal.find("a")
        yield* journal.release({ engineId: "e1", executionIds: ["a"] })
        const released = yield* journal.find("a")
        const claimed = yield* journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 10 })
        return { whileHeld, afterForeignRelease, released, claimed }
      })
    )

    expect(steps.whileHeld).toEqual([])
    expect(steps.afterForeignRelease).toMatchObject({ owner: "e1", epoch: 1 })
    expect(steps.released).toMatchObject({ owner: undefined, leaseExpiresAt: undefined, epoch: 1 })
    expect(ids(steps.claimed)).toEqual(["a"])
    expect(steps.claimed[0]).toMatchObject({ owner: "e2", epoch: 2 })
  })

  it("expired lease is claimable", async () => {
    const steps = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create({ ...createInput("a"), owner: owner("e1", 20) })
        const beforeExpiry = yield* journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 10 })
        yield* sleep(50)
        const claimed = yield* journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 10 })
        const renewedByOldOwner = yield* journal.renew({ engineId: "e1", leaseMs: 60_000 })
        return { beforeExpiry, claimed, renewedByOldOwner }
      })
    )

    expect(steps.beforeExpiry).toEqual([])
    expect(ids(steps.claimed)).toEqual(["a"])
    expect(steps.claimed[0]).toMatchObject({ owner: "e2", epoch: 2 })
    expect(steps.renewedByOldOwner).toEqual([])
  })

  it("renew extends own running leases", async () => {
    const before = Date.now()
    const steps = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create({ ...createInput("a", 1_000), owner: owner("e1", 1_000) })
        yield* journal.create({ ...createInput("b", 2_000), owner: owner("e1", 1_000) })
        yield* journal.create({ ...createInput("c", 3_000), owner: owner("e2", 1_000) })
        yield* journal.create({ ...createInput("d", 4_000), owner: owner("e1", 1_000) })
        yield* journal.setStatus("b", { status: "paused" }, { engineId: "e1", epoch: 1 })
        const renewed = yield* journal.renew({ engineId: "e1", leaseMs: 60_000 })
        return { renewed, listed: yield* journal.list() }
      })
    )

    expect(steps.renewed).toEqual([{ executionId: "a", epoch: 1 }, { executionId: "d", epoch: 1 }])
    const [a, b, c, d] = steps.listed
    expect(a?.leaseExpiresAt).toBeGreaterThanOrEqual(before + 60_000)
    expect(d?.leaseExpiresAt).toBeGreaterThanOrEqual(before + 60_000)
    expect(b).toMatchObject({ status: "paused", owner: undefined, leaseExpiresAt: undefined, epoch: 1 })
    expect(c?.owner).toBe("e2")
    expect(c?.leaseExpiresAt).toBeLessThan(before + 60_000)
  })

  it("final status drops the lease", async () => {
    const steps = await withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create({ ...createInput("a"), owner: owner("e1", 60_000) })
        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("Completed", 2_000)],
          status: { status: "completed", result: "1" },
          lease: { engineId: "e1", epoch: 1 }
        })
        const completed = yield* journal.find("a")
        const renewed = yield* journal.renew({ engineId: "e1", leaseMs: 60_000 })
        const claimed = yield* journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 10, executionId: "a" })
        return { completed, renewed, claimed }
      })
    )

    expect(steps.completed).toMatchObject({
      status: "completed",
      owner: undefined,
      leaseExpiresAt: undefined,
      epoch: 1,
      lastSequence: 2
    })
    expect(steps.renewed).toEqual([])
    expect(steps.claimed).toEqual([])
  })

  it("claim takes oldest first, up to limit", async () => {
    const steps = await withJournal((journal) =>
      Effect.gen(function*() {
        // "c" and "a" share a millisecond, so their order comes from insertion order.
        yield* journal.create(createInput("b", 1_000))
        yield* journal.create(createInput("c", 2_000))
        yield* journal.create(createInput("a", 2_000))
        yield* journal.create({ ...createInput("own", 500), owner: owner("e1", 60_000) })
        yield* journal.create({ ...createInput("other", 600), owner: owner("e2", 60_000) })
        return {
          first: yield* journal.claim({ engineId: "e1", leaseMs: 60_000, limit: 2 }),
          second: yield* journal.claim({ engineId: "e1", leaseMs: 60_000, limit: 2 }),
          withOwn: yield* journal.claim({ engineId: "e1", leaseMs: 60_000, limit: 10, includeOwn: true }),
          onlyOther: yield* journal.claim({ engineId: "e1", leaseMs: 60_000, limit: 10, executionId: "other" })
        }
      })
    )

    expect(ids(steps.first)).toEqual(["b", "c"])
    expect(ids(steps.second)).toEqual(["a"])
    expect(ids(steps.withOwn)).toEqual(["own", "b", "c", "a"])
    expect(steps.withOwn.map((record) => record.epoch)).toEqual([2, 2, 2, 2])
    expect(steps.onlyOther).toEqual([])
  })

  it("two connections never claim one execution twice", async () => {
    const executionCount = 50
    const claims = await run(
      Effect.gen(function*() {
        const first = yield* SqliteJournal.make({ filename })
        const second = yield* SqliteJournal.make({ filename })
        for (let index = 0; index < executionCount; index++) {
          yield* first.create(createInput(`order-${index}`, 1_000 + index))
        }
        const claims = { first: [] as Array<string>, second: [] as Array<string> }
        // better-sqlite3 is synchronous, so the two claims of a round run one after the other. The
        // test with several processes below runs claims at the same time.
        let done = false
        while (!done) {
          const fromFirst = yield* first.claim({ engineId: "first", leaseMs: 60_000, limit: 5 })
          const fromSecond = yield* second.claim({ engineId: "second", leaseMs: 60_000, limit: 5 })
          claims.first.push(...ids(fromFirst))
          claims.second.push(...ids(fromSecond))
          done = fromFirst.length === 0 && fromSecond.length === 0
        }
        return claims
      })
    )

    const all = [...claims.first, ...claims.second]
    expect(all).toHaveLength(executionCount)
    expect(new Set(all).size).toBe(executionCount)
    expect(claims.first.length).toBeGreaterThan(0)
    expect(claims.second.length).toBeGreaterThan(0)
  })

  it("processes never claim one execution twice", async () => {
    const executionCount = 200
    const processCount = 4
    // The processes open a version 1 file at the same moment, so they also race to migrate it.
    writeVersion1File(executionCount)

    const children = Array.from({ length: processCount }, (_, index) => startClaimChild(`engine-${index}`))
    await Promise.all(children.map((child) => child.ready))
    for (const child of children) child.start()
    const results = await Promise.all(children.map((child) => child.exited))

    for (const result of results) expect(result.code, result.stderr).toBe(0)
    const claimedBy = new Map<string, Array<string>>()
    results.forEach((result, index) => {
      for (const executionId of result.claimed) {
        claimedBy.set(executionId, [...(claimedBy.get(executionId) ?? []), `engine-${index}`])
      }
    })
    const claimedTwice = [...claimedBy].filter(([, engines]) => engines.length > 1)
    expect(claimedTwice).toEqual([])
    expect(claimedBy.size).toBe(executionCount)
    // The test shows nothing unless the processes' claims interleaved.
    const claimingProcesses = results.filter((result) => result.claimed.length > 0)
    expect(claimingProcesses.length).toBeGreaterThan(1)

    const records = await withJournal((journal) => journal.list({ status: ["running"] }))
    for (const record of records) {
      expect(record.owner).toBe(claimedBy.get(record.executionId)?.[0])
      expect(record.epoch).toBe(1)
    }
  })
})

interface ClaimChild {
  /** Resolves once the process has loaded its modules and waits for `start`. */
  readonly ready: Promise<void>
  readonly start: () => void
  readonly exited: Promise<{ code: number | null; stderr: string; claimed: Array<string> }>
}

/** Starts test/claim-child.ts as engine `engineId` on `filename`, killing it after 30 seconds. */
const startClaimChild = (engineId: string): ClaimChild => {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "claim-child.ts")], {
    cwd: path.join(import.meta.dirname, ".."),
    env: { ...process.env, WAYMARK_DB: filename, WAYMARK_ENGINE: engineId },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  let markReady = () => {}
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk)
    if (stdout.startsWith("ready\n")) markReady()
  })
  child.stderr.on("data", (chunk) => (stderr += String(chunk)))
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
  const exited = new Promise<{ code: number | null; stderr: string; claimed: Array<string> }>((resolve, reject) => {
    child.on("error", reject)
    child.on("exit", (code) => {
      clearTimeout(timer)
      markReady()
      const output = stdout.replace(/^ready\n/, "").trim()
      resolve({ code, stderr, claimed: code === 0 && output !== "" ? JSON.parse(output) : [] })
    })
  })
  return { ready, start: () => child.stdin.end("start\n"), exited }
}

class Greet extends WorkflowRequest<Greet>()("Greet", {
  payload: { name: Schema.String },
  success: Schema.String
}) {}

describe("WorkflowEngine on SqliteJournal", () => {
  it("runs a workflow end to end", async () => {
    let greetings = 0
    const greeting = (name: string) =>
      Effect.sync(() => {
        greetings++
        return `Hello, ${name}`
      }).pipe(Activity.make("greet", Schema.String))
    const greet = Workflow.make(Greet, (request) => `Greet@${request.name}`, ({ name }) => greeting(name))

    const sendGreet = Effect.gen(function*() {
      const engine = yield* WorkflowEngine.make(Workflow.union(greet))
      const result = yield* engine.send(new Greet({ name: "Ada" }))
      const history = yield* engine.history("Greet@Ada")
      return { result, kinds: history.map((recorded) => recorded.event._tag) }
    }).pipe(Effect.scoped, Effect.provide(SqliteJournal.layer({ filename })))

    const first = await Effect.runPromise(sendGreet)
    expect(first.result).toBe("Hello, Ada")
    expect(first.kinds).toEqual(["Started", "ActivityAttempted", "ActivityCompleted", "Completed"])

    // A second engine on the same file returns the recorded result without running the activity again.
    const second = await Effect.runPromise(sendGreet)
    expect(second).toEqual(first)
    expect(greetings).toBe(1)
  })
})
