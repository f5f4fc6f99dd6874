import { PgClient } from "@effect/sql-pg"
import { DurableExecutionJournal, InMemoryJournal, WorkflowError } from "@waymark/runtime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as SqlClient from "effect/sql/SqlClient"
import { randomBytes } from "node:crypto"
import * as net from "node:net"
import { expect, it } from "vitest"
import { databaseUrl, describePostgres, scopedTestSchema } from "../../../test/support/postgres"
import { PostgresJournal } from "../src/index"
import { makeCountingJournal } from "./roundTrips"

type Journal = DurableExecutionJournal.Journal
type JournalChange = DurableExecutionJournal.JournalChange
type TestServices = Scope.Scope | SqlClient.SqlClient | PgClient.PgClient

// A pool of its own for the test's direct SQL: dropping schemas, writing rows behind the journal's
// back, reading the server clock and terminating the journal's connections.
const adminLayer = PgClient.layer({ url: Redacted.make(databaseUrl), applicationName: "waymark-test-admin" })

const run = <A, E>(effect: Effect.Effect<A, E, TestServices>): Promise<A> =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(adminLayer)))

const openJournal = (schema: string, options: PostgresJournal.Options = {}) =>
  PostgresJournal.make({ url: databaseUrl, schema, ...options })

/** Runs `body` on a journal in a new schema, which is dropped afterwards. */
const withJournal = <A, E>(
  body: (journal: Journal, schema: string) => Effect.Effect<A, E, TestServices>
): Promise<A> =>
  run(Effect.gen(function*() {
    const schema = yield* scopedTestSchema
    const journal = yield* openJournal(schema)
    return yield* body(journal, schema)
  }))

const entry = (kind: string, recordedAt: number): DurableExecutionJournal.NewEntry => ({
  kind,
  data: JSON.stringify({ _tag: kind, at: recordedAt }),
  recordedAt
})

const createInput = (
  executionId: string,
  recordedAt = 100,
  owner?: { readonly engineId: string; readonly leaseMs: number }
) => ({
  executionId,
  workflow: "Pay",
  payload: JSON.stringify({ orderId: executionId }),
  first: entry("Started", recordedAt),
  owner
})

/** The database server's clock in epoch milliseconds, the clock that leases use. */
const serverNow = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql.unsafe<{ readonly now: bigint }>(
    "SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now"
  )
  return Number(row!.now)
})

/** Polls `condition` every 10 ms until it holds, and fails after `timeoutMs`. */
const eventually = (description: string, condition: () => boolean, timeoutMs = 5_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`Timed out waiting until ${description}`))
      yield* Effect.sleep("10 millis")
    }
  })

const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString("hex")}`

/** A TCP port on 127.0.0.1 where nothing listens: bound once, then closed. */
const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/**
 * Terminates the server processes of the client connections named `applicationName`, and returns
 * how many it terminated. PostgreSQL may evaluate the conditions of a WHERE clause in any order
 * (PostgreSQL 15 put pg_terminate_backend first in a plain WHERE), so a CASE runs the name check
 * first.
 */
const terminateConnections = (applicationName: string) =>
  Effect.gen(function*() {
    if (!applicationName.startsWith("waymark_test_")) {
      return yield* Effect.die(new Error(`Refusing to terminate connections of "${applicationName}": not a test name`))
    }
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ readonly terminated: boolean | null }>(
      `SELECT CASE
         WHEN application_name = $1 AND backend_type = 'client backend' AND usename = current_user
           AND pid <> pg_backend_pid()
         THEN pg_terminate_backend(pid)
       END AS terminated
       FROM pg_stat_activity`,
      [applicationName]
    )
    return rows.filter((row) => row.terminated === true).length
  })

/** Waits until a connection named `applicationName` is blocked on a lock in the server. */
const waitUntilBlocked = (applicationName: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    let waiting = 0
    while (waiting === 0) {
      yield* Effect.sleep("10 millis")
      const rows = yield* sql.unsafe(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [applicationName]
      )
      waiting = rows.length
    }
  })

describePostgres("PostgresJournal", () => {
  it("create inserts only when absent", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        const first = yield* journal.create(createInput("a", 100))
        expect(first.created).toBe(true)
        expect(first.execution).toEqual({
          executionId: "a",
          workflow: "Pay",
          status: "running",
          payload: JSON.stringify({ orderId: "a" }),
          result: undefined,
          statusDetail: undefined,
          lastSequence: 1,
          createdAt: 100,
          updatedAt: 100,
          owner: undefined,
          leaseExpiresAt: undefined,
          epoch: 0
        })

        const again = yield* journal.create({ ...createInput("a", 500), payload: "other" })
        expect(again.created).toBe(false)
        expect(again.execution).toEqual(first.execution)
        expect(yield* journal.read("a")).toEqual([{ ...entry("Started", 100), executionId: "a", sequence: 1 }])

        const before = yield* serverNow
        const owned = yield* journal.create(createInput("b", 200, { engineId: "e1", leaseMs: 60_000 }))
        const after = yield* serverNow
        expect(owned.execution.owner).toBe("e1")
        expect(owned.execution.epoch).toBe(1)
        expect(owned.execution.leaseExpiresAt).toBeGreaterThanOrEqual(before + 60_000)
        expect(owned.execution.leaseExpiresAt).toBeLessThanOrEqual(after + 60_000)
      })
    ))

  it("append checks id, lease, then sequence", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        const unknown = yield* Effect.flip(
          journal.append({
            executionId: "missing",
            expectedSequence: 5,
            entries: [entry("X", 1)],
            lease: { engineId: "e1", epoch: 1 }
          })
        )
        expect(unknown).toEqual(
          new WorkflowError.JournalConflictError({ executionId: "missing", expectedSequence: 5, actualSequence: 1 })
        )

        yield* journal.create(createInput("a", 100, { engineId: "e1", leaseMs: 60_000 }))
        const staleAndOutOfOrder = yield* Effect.flip(
          journal.append({
            executionId: "a",
            expectedSequence: 7,
            entries: [entry("X", 1)],
            lease: { engineId: "e2", epoch: 1 }
          })
        )
        expect(staleAndOutOfOrder).toEqual(new WorkflowError.LeaseLostError({ executionId: "a", engineId: "e2", epoch: 1 }))

        const outOfOrder = yield* Effect.flip(
          journal.append({
            executionId: "a",
            expectedSequence: 3,
            entries: [entry("X", 1)],
            lease: { engineId: "e1", epoch: 1 }
          })
        )
        expect(outOfOrder).toEqual(
          new WorkflowError.JournalConflictError({ executionId: "a", expectedSequence: 3, actualSequence: 2 })
        )

        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("X", 200), entry("Y", 3_000_000_000)],
          lease: { engineId: "e1", epoch: 1 }
        })
        const events = yield* journal.read("a")
        expect(events.map((event) => [event.sequence, event.kind, event.recordedAt])).toEqual([
          [1, "Started", 100],
          [2, "X", 200],
          [3, "Y", 3_000_000_000]
        ])
        const record = yield* journal.find("a")
        expect(record?.lastSequence).toBe(3)
        expect(record?.updatedAt).toBe(3_000_000_000)
        expect(record?.owner).toBe("e1")
      })
    ))

  it("final status drops the lease", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a", 100, { engineId: "e1", leaseMs: 60_000 }))
        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("Completed", 300)],
          status: { status: "completed", result: "\"paid\"" },
          lease: { engineId: "e1", epoch: 1 }
        })
        const completed = yield* journal.find("a")
        expect(completed).toMatchObject({ status: "completed", result: "\"paid\"", lastSequence: 2, updatedAt: 300, epoch: 1 })
        expect(completed?.owner).toBeUndefined()
        expect(completed?.leaseExpiresAt).toBeUndefined()

        // No entries: only the status changes, and updatedAt stays at the last event.
        yield* journal.append({
          executionId: "a",
          expectedSequence: 3,
          entries: [],
          status: { status: "parked", detail: "operator" }
        })
        const parked = yield* journal.find("a")
        expect(parked).toMatchObject({ status: "parked", statusDetail: "operator", result: "\"paid\"", lastSequence: 2 })
        expect(parked?.updatedAt).toBe(300)
      })
    ))

  it("setStatus uses server clock and lease", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.setStatus("missing", { status: "parked", detail: "nothing here" })
        expect(yield* journal.find("missing")).toBeUndefined()

        yield* journal.create(createInput("a", 100, { engineId: "e1", leaseMs: 60_000 }))
        const stale = yield* Effect.flip(journal.setStatus("a", { status: "parked" }, { engineId: "e1", epoch: 2 }))
        expect(stale).toEqual(new WorkflowError.LeaseLostError({ executionId: "a", engineId: "e1", epoch: 2 }))
        expect((yield* journal.find("a"))?.status).toBe("running")

        yield* journal.setStatus("a", { status: "running", detail: "still mine" }, { engineId: "e1", epoch: 1 })
        const stillOwned = yield* journal.find("a")
        expect(stillOwned).toMatchObject({ status: "running", statusDetail: "still mine", owner: "e1", epoch: 1 })

        const before = yield* serverNow
        yield* journal.setStatus("a", { status: "paused", detail: "waiting" }, { engineId: "e1", epoch: 1 })
        const after = yield* serverNow
        const paused = yield* journal.find("a")
        expect(paused).toMatchObject({ status: "paused", statusDetail: "waiting", epoch: 1, lastSequence: 1 })
        expect(paused?.owner).toBeUndefined()
        expect(paused?.leaseExpiresAt).toBeUndefined()
        expect(paused?.updatedAt).toBeGreaterThanOrEqual(before)
        expect(paused?.updatedAt).toBeLessThanOrEqual(after)
      })
    ))

  it("list filters by status, oldest first", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("c", 300))
        yield* journal.create(createInput("a", 100))
        yield* journal.create(createInput("b", 200))
        // Same created_at as "b": creation order breaks the tie.
        yield* journal.create(createInput("b2", 200))
        yield* journal.setStatus("a", { status: "paused" })
        yield* journal.append({
          executionId: "c",
          expectedSequence: 2,
          entries: [entry("Completed", 400)],
          status: { status: "completed", result: "1" }
        })

        const ids = (records: ReadonlyArray<DurableExecutionJournal.ExecutionRecord>) =>
          records.map((record) => record.executionId)
        expect(ids(yield* journal.list())).toEqual(["a", "b", "b2", "c"])
        expect(ids(yield* journal.list({ status: ["running"] }))).toEqual(["b", "b2"])
        expect(ids(yield* journal.list({ status: ["completed", "paused"] }))).toEqual(["a", "c"])
        expect(ids(yield* journal.list({ status: [] }))).toEqual([])
      })
    ))

  it("claim takes free and lapsed executions", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("free", 100))
        yield* journal.create(createInput("held", 200, { engineId: "e1", leaseMs: 60_000 }))
        // A lease of 0 ms lapses at once.
        yield* journal.create(createInput("lapsed", 300, { engineId: "e1", leaseMs: 0 }))
        yield* journal.create(createInput("done", 400))
        yield* journal.setStatus("done", { status: "completed" })

        const before = yield* serverNow
        const claimed = yield* journal.claim({ engineId: "e2", leaseMs: 30_000, limit: 10 })
        const after = yield* serverNow
        expect(claimed.map((record) => [record.executionId, record.owner, record.epoch])).toEqual([
          ["free", "e2", 1],
          ["lapsed", "e2", 2]
        ])
        for (const record of claimed) {
          expect(record.leaseExpiresAt).toBeGreaterThanOrEqual(before + 30_000)
          expect(record.leaseExpiresAt).toBeLessThanOrEqual(after + 30_000)
        }

        expect(yield* journal.claim({ engineId: "e2", leaseMs: 30_000, limit: 10 })).toEqual([])
        const own = yield* journal.claim({ engineId: "e2", leaseMs: 30_000, limit: 10, includeOwn: true })
        expect(own.map((record) => [record.executionId, record.epoch])).toEqual([["free", 2], ["lapsed", 3]])

        expect(yield* journal.claim({ engineId: "e3", leaseMs: 30_000, limit: 10, executionId: "held" })).toEqual([])
        const reclaimed = yield* journal.claim({
          engineId: "e1",
          leaseMs: 30_000,
          limit: 10,
          executionId: "held",
          includeOwn: true
        })
        expect(reclaimed.map((record) => [record.executionId, record.epoch])).toEqual([["held", 2]])

        for (const id of ["n1", "n2", "n3"]) yield* journal.create(createInput(id, 500))
        const limited = yield* journal.claim({ engineId: "e4", leaseMs: 30_000, limit: 2 })
        expect(limited.map((record) => record.executionId)).toEqual(["n1", "n2"])
        expect(yield* journal.claim({ engineId: "e4", leaseMs: 30_000, limit: 0 })).toEqual([])
      })
    ))

  it("claim filters by workflow", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create({ ...createInput("pay-1", 100), workflow: "Pay" })
        yield* journal.create({ ...createInput("ship-1", 200), workflow: "Ship" })
        yield* journal.create({ ...createInput("pay-2", 300), workflow: "Pay" })

        const claimIds = (workflows: ReadonlyArray<string>, executionId?: string) =>
          Effect.map(
            journal.claim({ engineId: "e1", leaseMs: 60_000, limit: 10, workflows, executionId }),
            (records) => records.map((record) => record.executionId)
          )
        expect(yield* claimIds([])).toEqual([])
        expect(yield* claimIds(["Unknown"])).toEqual([])
        expect(yield* claimIds(["Ship"], "pay-1")).toEqual([])
        expect(yield* claimIds(["Pay"])).toEqual(["pay-1", "pay-2"])
        expect(yield* claimIds(["Pay", "Ship"])).toEqual(["ship-1"])
      })
    ))

  it("renew extends, release frees leases", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a", 100, { engineId: "e1", leaseMs: 1_000 }))
        yield* journal.create(createInput("b", 200, { engineId: "e1", leaseMs: 1_000 }))
        yield* journal.create(createInput("other", 300, { engineId: "e2", leaseMs: 1_000 }))

        const before = yield* serverNow
        expect(yield* journal.renew({ engineId: "e1", leaseMs: 60_000 })).toEqual([
          { executionId: "a", epoch: 1 },
          { executionId: "b", epoch: 1 }
        ])
        expect((yield* journal.find("a"))?.leaseExpiresAt).toBeGreaterThanOrEqual(before + 60_000)
        expect((yield* journal.find("other"))?.leaseExpiresAt).toBeLessThan(before + 60_000)

        yield* journal.release({ engineId: "e2", executionIds: ["a"] })
        expect((yield* journal.find("a"))?.owner).toBe("e1")

        yield* journal.release({ engineId: "e1", executionIds: ["a", "other"] })
        const released = yield* journal.find("a")
        expect(released?.owner).toBeUndefined()
        expect(released?.leaseExpiresAt).toBeUndefined()
        expect(released?.epoch).toBe(1)
        expect((yield* journal.find("other"))?.owner).toBe("e2")
        expect(yield* journal.renew({ engineId: "e1", leaseMs: 60_000 })).toEqual([{ executionId: "b", epoch: 1 }])

        const claimedAfterRelease = yield* journal.claim({ engineId: "e3", leaseMs: 60_000, limit: 10 })
        expect(claimedAfterRelease.map((record) => [record.executionId, record.epoch])).toEqual([["a", 2]])
        yield* journal.release({ engineId: "e1", executionIds: [] })
      })
    ))

  it("matches the in-memory journal", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const postgres = yield* openJournal(schema)
      const memory = InMemoryJournal.make()

      /** Runs the script and returns every result, error and change notification. */
      const script = (journal: Journal) =>
        Effect.gen(function*() {
          const changes: Array<JournalChange> = []
          yield* journal.watch!((change) => changes.push(change))
          const outcomes: Array<unknown> = []
          const record = <A, E>(effect: Effect.Effect<A, E>) =>
            Effect.flatMap(Effect.result(effect), (result) => Effect.sync(() => outcomes.push(result)))

          yield* record(journal.create(createInput("a", 100)))
          yield* record(journal.create(createInput("b", 110, { engineId: "e1", leaseMs: 60_000 })))
          yield* record(journal.create({ ...createInput("a", 120), payload: "ignored" }))
          yield* record(journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 130), entry("Y", 140)] }))
          yield* record(journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("Z", 150)] }))
          yield* record(journal.append({ executionId: "nope", expectedSequence: 1, entries: [entry("Z", 150)] }))
          yield* record(journal.append({
            executionId: "b",
            expectedSequence: 2,
            entries: [entry("X", 160)],
            lease: { engineId: "e2", epoch: 1 }
          }))
          yield* record(journal.append({
            executionId: "b",
            expectedSequence: 2,
            entries: [entry("X", 170)],
            status: { status: "running", detail: "step 2" },
            lease: { engineId: "e1", epoch: 1 }
          }))
          yield* record(journal.setStatus("a", { status: "paused", detail: "waiting" }))
          yield* record(journal.setStatus("nope", { status: "paused" }))
          yield* record(journal.setStatus("b", { status: "parked" }, { engineId: "e1", epoch: 9 }))
          yield* record(journal.list())
          yield* record(journal.list({ status: ["paused"] }))
          yield* record(journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 5 }))
          yield* record(journal.append({
            executionId: "a",
            expectedSequence: 4,
            entries: [entry("Resumed", 180)],
            status: { status: "running" }
          }))
          yield* record(journal.claim({ engineId: "e2", leaseMs: 60_000, limit: 5 }))
          yield* record(journal.renew({ engineId: "e2", leaseMs: 60_000 }))
          yield* record(journal.renew({ engineId: "e1", leaseMs: 60_000 }))
          yield* record(journal.release({ engineId: "e1", executionIds: ["a", "b"] }))
          yield* record(journal.claim({ engineId: "e3", leaseMs: 60_000, limit: 5, includeOwn: true }))
          yield* record(journal.append({
            executionId: "b",
            expectedSequence: 3,
            entries: [entry("Late", 190)],
            lease: { engineId: "e1", epoch: 1 }
          }))
          yield* record(journal.append({
            executionId: "b",
            expectedSequence: 3,
            entries: [entry("Completed", 200)],
            status: { status: "completed", result: "42" },
            lease: { engineId: "e3", epoch: 2 }
          }))
          yield* record(journal.read("a"))
          yield* record(journal.read("b"))
          yield* record(journal.read("nope"))
          yield* record(journal.find("b"))
          yield* record(journal.find("nope"))
          yield* record(journal.list())
          // Postgres delivers notifications after the commit, asynchronously: wait for the last one.
          yield* eventually("the last change arrives", () => changes.at(-1)?.status === "completed")
          return { outcomes, changes }
        })

      const fromPostgres = yield* script(postgres)
      const fromMemory = yield* Effect.scoped(script(memory))
      expect(normalizeClockFields(fromPostgres)).toEqual(normalizeClockFields(fromMemory))
      expect(fromPostgres.outcomes).toHaveLength(28)
      expect(normalizeClockFields(fromPostgres.outcomes[6])).toMatchObject({
        _tag: "Failure",
        failure: { _tag: "LeaseLostError", executionId: "b", engineId: "e2", epoch: 1 }
      })
      expect(fromPostgres.changes.length).toBe(7)
    })))

  it("concurrent creates make one execution", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      // Opening both at once also runs two migrations of the new schema at the same time.
      const [first, second] = yield* Effect.all([openJournal(schema), openJournal(schema)], { concurrency: 2 })
      for (let round = 0; round < 20; round++) {
        const id = `order-${round}`
        const results = yield* Effect.all(
          [first.create(createInput(id, 100 + round)), second.create(createInput(id, 200 + round))],
          { concurrency: 2 }
        )
        expect(results.filter((result) => result.created)).toHaveLength(1)
        expect(results[0].execution).toEqual(results[1].execution)
        expect(yield* first.read(id)).toHaveLength(1)
      }
      expect(yield* second.list()).toHaveLength(20)
    })))

  it("concurrent claims take each once", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const first = yield* openJournal(schema)
      const second = yield* openJournal(schema)
      for (let index = 0; index < 50; index++) yield* first.create(createInput(`job-${index}`, 1_000 + index))

      const claimAll = (journal: Journal, engineId: string) =>
        Effect.gen(function*() {
          const claimed: Array<string> = []
          while (true) {
            const batch = yield* journal.claim({ engineId, leaseMs: 60_000, limit: 3 })
            if (batch.length === 0) return claimed
            claimed.push(...batch.map((record) => record.executionId))
          }
        })
      const [byFirst, bySecond] = yield* Effect.all(
        [claimAll(first, "e1"), claimAll(second, "e2"), claimAll(first, "e3")],
        { concurrency: 3 }
      ).pipe(Effect.map(([a, b, c]) => [a, [...b, ...c]] as const))
      const all = [...byFirst, ...bySecond]
      expect(all).toHaveLength(50)
      expect(new Set(all).size).toBe(50)
      const epochs = (yield* first.list()).map((record) => record.epoch)
      expect(epochs.every((epoch) => epoch === 1)).toBe(true)
    })))

  it("concurrent appends: exactly one wins", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const first = yield* openJournal(schema)
      const second = yield* openJournal(schema)
      for (let round = 0; round < 20; round++) {
        const id = `order-${round}`
        yield* first.create(createInput(id))
        const append = (journal: Journal, kind: string) =>
          Effect.result(journal.append({ executionId: id, expectedSequence: 2, entries: [entry(kind, 200)] }))
        const results = yield* Effect.all([append(first, "First"), append(second, "Second")], { concurrency: 2 })
        const failures = results.filter((result) => result._tag === "Failure")
        expect(failures).toHaveLength(1)
        expect(failures[0]).toMatchObject({
          failure: new WorkflowError.JournalConflictError({ executionId: id, expectedSequence: 2, actualSequence: 3 })
        })
        expect(yield* first.read(id)).toHaveLength(2)
        expect((yield* first.find(id))?.lastSequence).toBe(2)
      }
    })))

  it("append behind a writer sees its commit", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const schema = yield* scopedTestSchema
      const applicationName = uniqueName("waymark_test_app")
      const journal = yield* openJournal(schema, { applicationName })

      /**
       * Starts `append` while another transaction holds the execution's row lock, lets that
       * transaction run `change` and commit, and returns how the append failed.
       */
      const appendBehind = (change: string, append: Effect.Effect<void, unknown>) =>
        Effect.gen(function*() {
          const locked = yield* Deferred.make<void>()
          const proceed = yield* Deferred.make<void>()
          const writer = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
            yield* sql.unsafe(`SELECT 1 FROM "${schema}".executions WHERE execution_id = 'a' FOR UPDATE`)
            yield* Deferred.succeed(locked, undefined)
            yield* Deferred.await(proceed)
            yield* sql.unsafe(change)
          })))
          yield* Deferred.await(locked)
          const blocked = yield* Effect.forkChild(Effect.flip(append))
          yield* waitUntilBlocked(applicationName)
          yield* Deferred.succeed(proceed, undefined)
          yield* Fiber.join(writer)
          return yield* Fiber.join(blocked)
        })

      yield* journal.create(createInput("a", 100, { engineId: "e1", leaseMs: 60_000 }))
      const afterClaim = yield* appendBehind(
        `UPDATE "${schema}".executions SET owner = 'e2', epoch = 2 WHERE execution_id = 'a'`,
        journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("X", 200)],
          lease: { engineId: "e1", epoch: 1 }
        })
      )
      expect(afterClaim).toEqual(new WorkflowError.LeaseLostError({ executionId: "a", engineId: "e1", epoch: 1 }))

      const afterAppend = yield* appendBehind(
        `WITH event AS (
           INSERT INTO "${schema}".events (execution_id, sequence, kind, data, recorded_at)
           VALUES ('a', 2, 'Other', '{}', 150)
         )
         UPDATE "${schema}".executions SET last_sequence = 2 WHERE execution_id = 'a'`,
        journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("X", 200)],
          lease: { engineId: "e2", epoch: 2 }
        })
      )
      expect(afterAppend).toEqual(
        new WorkflowError.JournalConflictError({ executionId: "a", expectedSequence: 2, actualSequence: 3 })
      )
      expect((yield* journal.read("a")).map((event) => event.kind)).toEqual(["Started", "Other"])
    })))

  it("stale lease writes write nothing", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const oldOwner = yield* openJournal(schema)
      const newOwner = yield* openJournal(schema)
      yield* oldOwner.create(createInput("a", 100, { engineId: "e1", leaseMs: 0 }))
      const [claimed] = yield* newOwner.claim({ engineId: "e2", leaseMs: 60_000, limit: 1 })
      expect(claimed).toMatchObject({ executionId: "a", owner: "e2", epoch: 2 })

      const staleAppend = yield* Effect.flip(
        oldOwner.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("Late", 200)],
          status: { status: "completed", result: "1" },
          lease: { engineId: "e1", epoch: 1 }
        })
      )
      expect(staleAppend).toEqual(new WorkflowError.LeaseLostError({ executionId: "a", engineId: "e1", epoch: 1 }))
      const staleStatus = yield* Effect.flip(
        oldOwner.setStatus("a", { status: "parked", detail: "late" }, { engineId: "e1", epoch: 1 })
      )
      expect(staleStatus).toEqual(new WorkflowError.LeaseLostError({ executionId: "a", engineId: "e1", epoch: 1 }))
      // Same engine id, earlier epoch: also stale.
      const earlierEpoch = yield* Effect.flip(
        newOwner.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [entry("Late", 200)],
          lease: { engineId: "e2", epoch: 1 }
        })
      )
      expect(earlierEpoch).toBeInstanceOf(WorkflowError.LeaseLostError)

      expect(yield* newOwner.read("a")).toHaveLength(1)
      expect(yield* newOwner.find("a")).toMatchObject({
        status: "running",
        statusDetail: undefined,
        lastSequence: 1,
        updatedAt: 100,
        owner: "e2",
        epoch: 2
      })
    })))

  it("watch hears only its own schema", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const otherSchema = yield* scopedTestSchema
      const watcher = yield* openJournal(schema)
      const writer = yield* openJournal(schema)
      const elsewhere = yield* openJournal(otherSchema)
      const changes: Array<JournalChange> = []
      yield* watcher.watch!((change) => changes.push(change))

      yield* elsewhere.create(createInput("other-schema"))
      yield* writer.create(createInput("a"))
      yield* writer.create(createInput("b", 100, { engineId: "e1", leaseMs: 60_000 }))
      yield* writer.create(createInput("a"))
      yield* writer.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 200)] })
      yield* writer.append({
        executionId: "a",
        expectedSequence: 3,
        entries: [entry("Done", 300)],
        status: { status: "completed", result: "1" }
      })
      yield* writer.claim({ engineId: "e2", leaseMs: 60_000, limit: 10 })
      yield* writer.setStatus("b", { status: "paused", detail: "waiting" })
      yield* writer.setStatus("b", { status: "running" })
      yield* writer.release({ engineId: "e9", executionIds: ["b"] })
      yield* writer.claim({ engineId: "e3", leaseMs: 60_000, limit: 10 })
      yield* writer.release({ engineId: "e3", executionIds: ["b"] })

      const expected: Array<JournalChange> = [
        { executionId: "a", status: "running", claimable: true },
        { executionId: "b", status: "running", claimable: false },
        { executionId: "a", status: "completed", claimable: false },
        { executionId: "b", status: "paused", claimable: false },
        { executionId: "b", status: "running", claimable: true },
        { executionId: "b", status: "running", claimable: true }
      ]
      yield* eventually("six changes arrive", () => changes.length >= expected.length)
      // Give a stray notification from the other schema time to arrive, were it sent to this channel.
      yield* Effect.sleep("100 millis")
      expect(changes).toEqual(expected)
    })))

  it("watch leaves the pool to calls", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const journal = yield* openJournal(schema, { maxConnections: 1, acquireTimeout: "2 seconds" })
      const changes: Array<JournalChange> = []
      yield* journal.watch!((change) => changes.push(change))
      yield* journal.watch!((change) => changes.push(change))
      yield* journal.create(createInput("a"))
      yield* eventually("both listeners hear the change", () => changes.length === 2)
      expect(changes).toEqual([
        { executionId: "a", status: "running", claimable: true },
        { executionId: "a", status: "running", claimable: true }
      ])
    })))

  it("returns corrupt rows unchanged", () =>
    withJournal((journal, schema) =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const odd = "  {\"a\": 1}  \u2028 é 😀 \\u0000 "
        yield* journal.create({ ...createInput("a"), payload: odd })
        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: [{ kind: "Odd", data: odd, recordedAt: 200 }]
        })
        yield* sql.unsafe(
          `INSERT INTO "${schema}".events (execution_id, sequence, kind, data, recorded_at)
           VALUES ('a', 3, 'NoSuchKind', '{"_tag": "Truncat', 300)`
        )
        yield* sql.unsafe(
          `UPDATE "${schema}".executions
           SET last_sequence = 3, status = 'exploded', result = 'not json', status_detail = ''
           WHERE execution_id = 'a'`
        )

        const events = yield* journal.read("a")
        expect(events.map((event) => [event.kind, event.data])).toEqual([
          ["Started", entry("Started", 100).data],
          ["Odd", odd],
          ["NoSuchKind", "{\"_tag\": \"Truncat"]
        ])
        expect(yield* journal.find("a")).toMatchObject({
          payload: odd,
          status: "exploded",
          result: "not json",
          statusDetail: "",
          lastSequence: 3
        })
        expect((yield* journal.list({ status: ["exploded" as DurableExecutionJournal.ExecutionStatus] })).length)
          .toBe(1)
      })
    ))

  it("rejects text PostgreSQL cannot store", () =>
    withJournal((journal) =>
      Effect.gen(function*() {
        yield* journal.create(createInput("a"))
        const invalidTexts = [
          ["a NUL character", "a\u0000b"],
          ["a lone surrogate (U+D800)", "x\uD800"],
          ["a lone surrogate (U+DE00)", "\uDE00\uD83D"]
        ] as const
        for (const [description, data] of invalidTexts) {
          const error = yield* Effect.flip(
            journal.append({ executionId: "a", expectedSequence: 2, entries: [{ kind: "Bad", data, recordedAt: 200 }] })
          )
          expect(error).toBeInstanceOf(WorkflowError.JournalError)
          expect(error.message).toContain(`entries[0].data contains ${description}`)
          expect((error as WorkflowError.JournalError).hint).toContain("JSON.stringify escapes both")
        }
        const badPayload = yield* Effect.flip(journal.create({ ...createInput("b"), payload: "\u0000" }))
        expect(badPayload.message).toContain("payload contains a NUL character")
        const badDetail = yield* Effect.flip(journal.setStatus("a", { status: "parked", detail: "\uDFFF" }))
        expect(badDetail.message).toContain("status.detail contains a lone surrogate")

        // The escaped forms that JSON.stringify writes are stored and returned as given.
        const escaped = [JSON.stringify("a\u0000b"), JSON.stringify("\uD800"), "😀"]
        yield* journal.append({
          executionId: "a",
          expectedSequence: 2,
          entries: escaped.map((data, index) => ({ kind: "Escaped", data, recordedAt: 300 + index }))
        })
        expect((yield* journal.read("a")).slice(1).map((event) => event.data)).toEqual(escaped)
        expect(yield* journal.find("b")).toBeUndefined()
        expect((yield* journal.find("a"))?.status).toBe("running")
      })
    ))

  it("records version, rejects newer versions", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const schema = yield* scopedTestSchema
      yield* Effect.scoped(openJournal(schema))
      const rows = yield* sql.unsafe<{ readonly key: string; readonly value: string }>(
        `SELECT key, value FROM "${schema}".meta`
      )
      expect(rows).toEqual([{ key: "schema_version", value: "1" }])

      // Opening an existing schema again checks the version and keeps the data.
      yield* Effect.scoped(Effect.flatMap(openJournal(schema), (journal) => journal.create(createInput("a"))))
      yield* Effect.scoped(openJournal(schema))
      expect(yield* Effect.scoped(Effect.flatMap(openJournal(schema), (journal) => journal.list()))).toHaveLength(1)

      yield* sql.unsafe(`UPDATE "${schema}".meta SET value = '2' WHERE key = 'schema_version'`)
      const newer = yield* Effect.flip(Effect.scoped(openJournal(schema)))
      expect(newer).toBeInstanceOf(WorkflowError.JournalError)
      expect(newer.operation).toBe("open")
      expect(newer.message).toContain("schema version 2")
      expect(newer.hint).toContain("Upgrade @waymark/postgres")

      yield* sql.unsafe(`UPDATE "${schema}".meta SET value = 'two' WHERE key = 'schema_version'`)
      const damaged = yield* Effect.flip(Effect.scoped(openJournal(schema)))
      expect(damaged.message).toContain("not a positive integer")
    })))

  it("rejects invalid schema names", () =>
    run(Effect.gen(function*() {
      for (const schema of ["", "1abc", "with space", "quote\"d", "x".repeat(56)]) {
        const error = yield* Effect.flip(Effect.scoped(openJournal(schema)))
        expect(error).toBeInstanceOf(WorkflowError.JournalError)
        expect(error.operation).toBe("open")
        expect(error.message).toContain("schema name")
      }
    })))

  it("closed port gives a hinted JournalError", async () => {
    const port = await closedPort()
    const url = `postgres://postgres:secret-password@127.0.0.1:${port}/postgres`
    const error = await Effect.runPromise(
      Effect.flip(Effect.scoped(PostgresJournal.make({ url, schema: "waymark_unreachable" })))
    )
    expect(error).toBeInstanceOf(WorkflowError.JournalError)
    expect(error.operation).toBe("open")
    expect(error.message).toContain("ECONNREFUSED")
    expect(error.hint).toContain("DATABASE_URL")
    expect(error.hint).toContain("the PostgreSQL server runs")
    expect(error.hint).toContain(`127.0.0.1:${port}`)
    expect(error.message).not.toContain("secret-password")
  })

  it("recovers from terminated idle connections", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const schema = yield* scopedTestSchema
      const applicationName = uniqueName("waymark_test_app")
      const journal = yield* openJournal(schema, { applicationName })
      yield* journal.create(createInput("a"))
      let sequence = 2
      const append = Effect.suspend(() =>
        journal.append({ executionId: "a", expectedSequence: sequence, entries: [entry("X", sequence)] })
      ).pipe(Effect.tap(() => Effect.sync(() => sequence++)))
      const openConnections = () =>
        Effect.all([journal.find("a"), journal.read("a"), journal.list()], { concurrency: 3 })

      // Calls made once the server has ended the connections: the driver has seen the sockets
      // close, dropped those connections, and every call runs on a new one.
      yield* openConnections()
      expect(yield* terminateConnections(applicationName)).toBeGreaterThan(0)
      let remaining = 1
      while (remaining > 0) {
        yield* Effect.sleep("10 millis")
        remaining = (yield* sql.unsafe("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [
          applicationName
        ])).length
      }
      for (let call = 0; call < 3; call++) yield* append

      // Calls made right away may each land on a connection whose end the driver has not read yet:
      // such a call fails, and the pool drops that connection. At most one call per terminated
      // connection fails, and the calls after them succeed.
      for (let round = 0; round < 3; round++) {
        yield* openConnections()
        const terminated = yield* terminateConnections(applicationName)
        const failures: Array<unknown> = []
        let succeeded = 0
        while (succeeded < 3) {
          const result = yield* Effect.result(append)
          if (result._tag === "Success") succeeded++
          else failures.push(result.failure)
        }
        expect(failures.length).toBeLessThanOrEqual(terminated)
        for (const failure of failures) {
          expect(failure).toBeInstanceOf(WorkflowError.JournalError)
          expect((failure as WorkflowError.JournalError).hint).toContain("DATABASE_URL")
        }
      }
      expect((yield* journal.find("a"))?.lastSequence).toBe(sequence - 1)
      expect(yield* journal.read("a")).toHaveLength(sequence - 1)
    })))

  it("terminated in-flight call fails, then recovers", () =>
    run(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const schema = yield* scopedTestSchema
      const applicationName = uniqueName("waymark_test_app")
      const journal = yield* openJournal(schema, { applicationName })
      yield* journal.create(createInput("a"))

      // Hold the row lock in another transaction, so the journal's append waits inside the server.
      const locked = yield* Deferred.make<void>()
      const unlock = yield* Deferred.make<void>()
      const holder = yield* Effect.forkChild(sql.withTransaction(Effect.gen(function*() {
        yield* sql.unsafe(`SELECT 1 FROM "${schema}".executions WHERE execution_id = 'a' FOR UPDATE`)
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(unlock)
      })))
      yield* Deferred.await(locked)

      const blocked = yield* Effect.forkChild(Effect.flip(
        journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 200)] })
      ))
      yield* waitUntilBlocked(applicationName)
      expect(yield* terminateConnections(applicationName)).toBeGreaterThan(0)
      const error = yield* Fiber.join(blocked)
      expect(error).toBeInstanceOf(WorkflowError.JournalError)
      const journalError = error as WorkflowError.JournalError
      expect(journalError.operation).toBe("append")
      expect(journalError.executionId).toBe("a")
      expect(journalError.hint).toContain("DATABASE_URL")

      yield* Deferred.succeed(unlock, undefined)
      yield* Fiber.join(holder)
      expect((yield* journal.find("a"))?.lastSequence).toBe(1)
      yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 200)] })
      expect(yield* journal.read("a")).toHaveLength(2)
    })))

  it("watch listens again after termination", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const applicationName = uniqueName("waymark_test_app")
      const watcher = yield* openJournal(schema, { applicationName })
      const writer = yield* openJournal(schema)
      const changes: Array<JournalChange> = []
      yield* watcher.watch!((change) => changes.push(change))
      yield* writer.create(createInput("before"))
      yield* eventually("the first change arrives", () => changes.length === 1)

      expect(yield* terminateConnections(applicationName)).toBeGreaterThan(0)
      // Changes committed before the new LISTEN are lost, so keep writing until one arrives.
      let index = 0
      const deadline = Date.now() + 10_000
      while (!changes.some((change) => change.executionId.startsWith("after-"))) {
        if (Date.now() > deadline) throw new Error("No change arrived after the LISTEN connection was terminated")
        yield* writer.create(createInput(`after-${index++}`))
        yield* Effect.sleep("50 millis")
      }
    })))

  it("append takes one round trip", () =>
    run(Effect.gen(function*() {
      const schema = yield* scopedTestSchema
      const { journal, writes } = yield* makeCountingJournal(databaseUrl, schema)

      const roundTrips = <A, E>(effect: Effect.Effect<A, E>) =>
        Effect.gen(function*() {
          const before = writes()
          yield* effect
          return writes() - before
        })

      expect(yield* roundTrips(journal.create(createInput("a", 100, { engineId: "e1", leaseMs: 60_000 })))).toBe(1)
      for (let sequence = 2; sequence <= 4; sequence++) {
        const append = journal.append({
          executionId: "a",
          expectedSequence: sequence,
          entries: [entry("ActivityCompleted", 100 + sequence)],
          lease: { engineId: "e1", epoch: 1 }
        })
        expect(yield* roundTrips(append)).toBe(1)
      }
      const batch = journal.append({
        executionId: "a",
        expectedSequence: 5,
        entries: [entry("A", 200), entry("B", 201), entry("C", 202)],
        status: { status: "completed", result: "1" },
        lease: { engineId: "e1", epoch: 1 }
      })
      expect(yield* roundTrips(batch)).toBe(1)
      expect(yield* roundTrips(journal.setStatus("a", { status: "parked" }))).toBe(1)
      expect(yield* roundTrips(journal.claim({ engineId: "e2", leaseMs: 1_000, limit: 10 }))).toBe(1)
    })))
})

/**
 * Replaces epoch milliseconds that come from a clock (lease expiry, and `updatedAt` after
 * `setStatus`) with a marker. The script's own times are below 10^12, a clock's are above.
 */
const normalizeClockFields = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normalizeClockFields)
  if (typeof value !== "object" || value === null) return value
  const normalized: Record<string, unknown> = {}
  // Results and errors keep `_tag` on their prototype, where Object.entries does not look.
  if ("_tag" in value) normalized._tag = (value as { readonly _tag: unknown })._tag
  for (const [key, field] of Object.entries(value)) {
    normalized[key] = (key === "leaseExpiresAt" || key === "updatedAt") && typeof field === "number" && field > 1e12
      ? "clock"
      : normalizeClockFields(field)
  }
  return normalized
}
