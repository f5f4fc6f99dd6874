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
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { Worker } from "node:worker_threads"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { SqliteJournal } from "../src/index"

type Journal = DurableExecutionJournal.Journal

let folder: string
let filename: string

beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "waymark-sqlite-"))
  filename = path.join(folder, "journal.db")
})

afterEach(() => {
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

/** Exercises every method, and returns what each call returned or failed with. */
const exerciseJournal = (journal: Journal) =>
  Effect.gen(function*() {
    const outcomes: Array<unknown> = []
    const failure = <E extends object>(effect: Effect.Effect<unknown, E>) =>
      Effect.map(Effect.flip(effect), (error) => ({ ...error }))

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
    return outcomes
  })

describe("SqliteJournal", () => {
  it("matches the in-memory journal", async () => {
    const expected = await Effect.runPromise(exerciseJournal(InMemoryJournal.make()))
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
      updatedAt: 1_000
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
    expect(steps.parked).toMatchObject({ status: "parked", result: "42", statusDetail: "needs an operator" })
    expect(steps.resumed).toMatchObject({ status: "running", result: "42", statusDetail: undefined })
    expect(steps.resumed?.lastSequence).toBe(2)
    expect(steps.resumed?.updatedAt).toBe(2_000)
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
      statusIndex: db.prepare("SELECT tbl_name FROM sqlite_schema WHERE name = 'executions_by_status'").pluck().get()
    }))
    expect(stored.version).toBe("1")
    expect(stored.journalMode).toBe("wal")
    expect(stored.statusIndex).toBe("executions")
  })

  it("rejects a newer schema version", async () => {
    await withJournal((journal) => journal.create(createInput("a")))
    withConnection((db) => db.prepare("UPDATE waymark_meta SET value = '2' WHERE key = 'schema_version'").run())
    const error = await run(Effect.flip(SqliteJournal.make({ filename })))
    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error.operation).toBe("open")
    expect(error.message).toContain(filename)
    expect(error.message).toContain("schema version is 2")
    expect(error.message).toContain("Upgrade @waymark/sqlite")
    const version = withConnection((db) =>
      db.prepare("SELECT value FROM waymark_meta WHERE key = 'schema_version'").pluck().get()
    )
    expect(version).toBe("2")
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
