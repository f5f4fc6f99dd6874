/**
 * The journal conformance suite: every operation of the `Journal` contract and its edge cases,
 * with the in-memory journal's behaviour as the reference. Each backend registers it once with
 * `conformance(backend)`, and each test runs on a fresh, empty journal from `backend.make()`.
 *
 * Time fields are checked as ranges around the call, because each backend stamps leases and
 * `setStatus` with its own clock (Postgres uses the database server's clock).
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { describe, expect, it } from "vitest"
import { type DurableExecutionJournal, WorkflowError } from "@waymark/runtime"
import { run } from "../support/harness"
import type { JournalBackend } from "../support/journals"

type Journal = DurableExecutionJournal.Journal
type ExecutionRecord = DurableExecutionJournal.ExecutionRecord
type ExecutionStatus = DurableExecutionJournal.ExecutionStatus
type JournalChange = DurableExecutionJournal.JournalChange
type NewEntry = DurableExecutionJournal.NewEntry

/** An inclusive range of epoch milliseconds, for a time that the journal's clock sets. */
interface Range {
  readonly min: number
  readonly max: number
}

const between = (min: number, max: number): Range => ({ min, max })

const isRange = (value: unknown): value is Range =>
  typeof value === "object" && value !== null && "min" in value && "max" in value

type TimeField = "createdAt" | "updatedAt" | "leaseExpiresAt"

/** Every field of an `ExecutionRecord`, where a time field may be given as a range. */
type ExpectedRecord = {
  readonly [K in keyof ExecutionRecord]: K extends TimeField ? ExecutionRecord[K] | Range : ExecutionRecord[K]
}

/** Checks every field of `actual`, each with its own assertion so that a failure names the field. */
const expectRecord = (actual: ExecutionRecord | undefined, expected: ExpectedRecord): void => {
  expect(actual, "execution record").toBeDefined()
  for (const field of Object.keys(expected) as Array<keyof ExecutionRecord>) {
    const expectedValue = expected[field]
    const value = actual?.[field]
    if (isRange(expectedValue)) {
      expect(value, field).toBeTypeOf("number")
      expect(value, field).toBeGreaterThanOrEqual(expectedValue.min)
      expect(value, field).toBeLessThanOrEqual(expectedValue.max)
    } else {
      expect(value, field).toBe(expectedValue)
    }
  }
}

/** Runs `effect` and returns its value with `Date.now()` read just before and just after it. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const before = Date.now()
    const value = yield* effect
    const after = Date.now()
    return { value, before, after }
  })

const entry = (kind: string, recordedAt: number, data = JSON.stringify({ _tag: kind, at: recordedAt })): NewEntry => ({
  kind,
  data,
  recordedAt
})

interface CreateOptions {
  readonly workflow?: string
  readonly payload?: string
  readonly recordedAt?: number
  readonly first?: NewEntry
  readonly owner?: { readonly engineId: string; readonly leaseMs: number }
}

const createInput = (executionId: string, options: CreateOptions = {}) => {
  const recordedAt = options.recordedAt ?? 1_000
  return {
    executionId,
    workflow: options.workflow ?? "Pay",
    payload: options.payload ?? JSON.stringify({ orderId: executionId }),
    first: options.first ?? entry("Started", recordedAt),
    owner: options.owner
  }
}

/** Returns the `owner` option of `create`, which leases the new execution to `engineId` for `leaseMs`. */
const owned = (engineId: string, leaseMs: number) => ({ engineId, leaseMs })

const lease = (engineId: string, epoch: number): DurableExecutionJournal.Lease => ({ engineId, epoch })

const ids = (records: ReadonlyArray<{ readonly executionId: string }>) => records.map((record) => record.executionId)

const byExecutionId = <A extends { readonly executionId: string }>(items: ReadonlyArray<A>): Array<A> =>
  [...items].sort((a, b) => a.executionId.localeCompare(b.executionId))

/** A lease short enough to lapse during `lapse`. */
const shortLeaseMs = 5
/** Waits until a lease of `shortLeaseMs` has lapsed, with a margin for a slow machine. */
const lapse = Effect.sleep("30 millis")
/** A lease that does not lapse during a test. */
const longLeaseMs = 60_000

const nonRunningStatuses: ReadonlyArray<ExecutionStatus> = ["paused", "parked", "completed", "failed"]

/** Polls `condition` every 5 ms until it holds, and dies after `timeoutMs`. */
const waitUntil = (description: string, condition: () => boolean, timeoutMs = 5_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`Timed out waiting until ${description}`))
      yield* Effect.sleep("5 millis")
    }
  })

const expectConflict = (
  error: unknown,
  expected: { readonly executionId: string; readonly expectedSequence: number; readonly actualSequence: number }
) => {
  expect(error).toBeInstanceOf(WorkflowError.JournalConflictError)
  expect(error).toMatchObject(expected)
}

const expectLeaseLost = (
  error: unknown,
  expected: { readonly executionId: string; readonly engineId: string; readonly epoch: number }
) => {
  expect(error).toBeInstanceOf(WorkflowError.LeaseLostError)
  expect(error).toMatchObject(expected)
}

/**
 * Registers the conformance tests of `backend` in a `describe` block named after it.
 */
export const conformance = (backend: JournalBackend): void => {
  /** Registers a test that runs `body` on a fresh journal, closed when the test ends. */
  const test = (name: string, body: (journal: Journal) => Effect.Effect<void, unknown, Scope.Scope>) =>
    it(name, () => run(Effect.flatMap(backend.make(), body)))

  describe(`${backend.name} journal conformance`, () => {
    describe("create", () => {
      test("creates a running row and event 1", (journal) =>
        Effect.gen(function*() {
          const first = entry("Started", 1_000)
          const result = yield* journal.create(createInput("a", { first }))

          expect(result.created).toBe(true)
          const expected: ExpectedRecord = {
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
          }
          expectRecord(result.execution, expected)
          expectRecord(yield* journal.find("a"), expected)
          expect(yield* journal.read("a")).toEqual([{ executionId: "a", sequence: 1, ...first }])
        }))

      test("with owner leases at epoch 1", (journal) =>
        Effect.gen(function*() {
          const { value: result, before, after } = yield* timed(
            journal.create(createInput("a", { owner: owned("e1", longLeaseMs) }))
          )

          expect(result.created).toBe(true)
          const expected: ExpectedRecord = {
            executionId: "a",
            workflow: "Pay",
            status: "running",
            payload: `{"orderId":"a"}`,
            result: undefined,
            statusDetail: undefined,
            lastSequence: 1,
            createdAt: 1_000,
            updatedAt: 1_000,
            owner: "e1",
            leaseExpiresAt: between(before + longLeaseMs, after + longLeaseMs),
            epoch: 1
          }
          expectRecord(result.execution, expected)
          expect(yield* journal.find("a")).toEqual(result.execution)
        }))

      test("of an existing id writes nothing", (journal) =>
        Effect.gen(function*() {
          const original = yield* journal.create(
            createInput("a", { first: entry("Started", 1_000), owner: owned("e1", longLeaseMs) })
          )
          const entriesBefore = yield* journal.read("a")

          const again = yield* journal.create({
            executionId: "a",
            workflow: "Other",
            payload: `{"other":true}`,
            first: entry("Restarted", 2_000),
            owner: owned("e2", longLeaseMs)
          })
          const withoutOwner = yield* journal.create(createInput("a", { recordedAt: 3_000 }))

          expect(again.created).toBe(false)
          expect(again.execution).toEqual(original.execution)
          expect(withoutOwner.created).toBe(false)
          expect(withoutOwner.execution).toEqual(original.execution)
          expect(yield* journal.find("a")).toEqual(original.execution)
          expect(yield* journal.read("a")).toEqual(entriesBefore)
        }))

      test("of an id in another status returns it", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a"))
          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("Completed", 2_000)],
            status: { status: "completed", result: `"ok"` }
          })
          const completed = yield* journal.find("a")

          const again = yield* journal.create(createInput("a", { recordedAt: 3_000 }))

          expect(again.created).toBe(false)
          expect(again.execution).toEqual(completed)
          expect(again.execution.status).toBe("completed")
          expect(yield* journal.read("a")).toHaveLength(2)
        }))

      test("concurrent creates make one execution", (journal) =>
        Effect.gen(function*() {
          const attempts = Array.from({ length: 8 }, (_, index) => index)
          const results = yield* Effect.forEach(
            attempts,
            (index) =>
              journal.create(
                createInput("a", {
                  payload: `{"attempt":${index}}`,
                  first: entry("Started", 1_000 + index, `{"attempt":${index}}`)
                })
              ),
            { concurrency: "unbounded" }
          )

          const winners = results.filter((result) => result.created)
          expect(winners).toHaveLength(1)
          const winner = winners[0]!
          for (const result of results) expect(result.execution).toEqual(winner.execution)
          expect(yield* journal.find("a")).toEqual(winner.execution)
          const entries = yield* journal.read("a")
          expect(entries).toHaveLength(1)
          expect(entries[0]?.data).toBe(winner.execution.payload)
          expect(yield* journal.list()).toHaveLength(1)
        }))
    })

    describe("append", () => {
      test("numbers entries consecutively", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { recordedAt: 1_000 }))
          yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 1_100)] })
          yield* journal.append({
            executionId: "a",
            expectedSequence: 3,
            entries: [entry("Y", 1_200), entry("Z", 1_300), entry("Z", 1_250)]
          })

          expect(yield* journal.read("a")).toEqual([
            { executionId: "a", sequence: 1, ...entry("Started", 1_000) },
            { executionId: "a", sequence: 2, ...entry("X", 1_100) },
            { executionId: "a", sequence: 3, ...entry("Y", 1_200) },
            { executionId: "a", sequence: 4, ...entry("Z", 1_300) },
            { executionId: "a", sequence: 5, ...entry("Z", 1_250) }
          ])
          // `updatedAt` is the `recordedAt` of the batch's last entry, even when an earlier one is later.
          expectRecord(yield* journal.find("a"), {
            executionId: "a",
            workflow: "Pay",
            status: "running",
            payload: `{"orderId":"a"}`,
            result: undefined,
            statusDetail: undefined,
            lastSequence: 5,
            createdAt: 1_000,
            updatedAt: 1_250,
            owner: undefined,
            leaseExpiresAt: undefined,
            epoch: 0
          })
        }))

      test("keeps executions' logs apart", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { recordedAt: 1_000 }))
          yield* journal.create(createInput("b", { recordedAt: 1_001 }))
          yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("A2", 1_100)] })
          yield* journal.append({ executionId: "b", expectedSequence: 2, entries: [entry("B2", 1_101)] })
          yield* journal.append({ executionId: "a", expectedSequence: 3, entries: [entry("A3", 1_200)] })

          expect((yield* journal.read("a")).map((e) => [e.executionId, e.sequence, e.kind])).toEqual([
            ["a", 1, "Started"],
            ["a", 2, "A2"],
            ["a", 3, "A3"]
          ])
          expect((yield* journal.read("b")).map((e) => [e.executionId, e.sequence, e.kind])).toEqual([
            ["b", 1, "Started"],
            ["b", 2, "B2"]
          ])
        }))

      test("without entries or status changes nothing", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a"))
          const before = yield* journal.find("a")

          yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [] })

          expect(yield* journal.find("a")).toEqual(before)
          expect(yield* journal.read("a")).toHaveLength(1)
        }))

      test("returns unicode text unchanged", (journal) =>
        Effect.gen(function*() {
          const texts = [
            "é ü ß ñ Å",
            "中文 日本語 한국어",
            "עברית العربية",
            "e\u0301 a\u030A",
            "\u2028\u2029\uFEFF\u200B",
            "\t\r\n\u0001\u001F\u007F"
          ]
          yield* journal.create(
            createInput("ünïcode-訂單-😀", { workflow: "Zahlung-支払い", payload: JSON.stringify({ name: "Zoë 😀" }) })
          )
          yield* journal.append({
            executionId: "ünïcode-訂單-😀",
            expectedSequence: 2,
            entries: texts.map((text, index) => entry(`Kind-${text}`, 2_000 + index, text)),
            status: { status: "parked", detail: "détail 中文 😀", result: `"résultat 🎉"` }
          })

          const entries = yield* journal.read("ünïcode-訂單-😀")
          expect(entries.slice(1).map((e) => e.data)).toEqual(texts)
          expect(entries.slice(1).map((e) => e.kind)).toEqual(texts.map((text) => `Kind-${text}`))
          const record = yield* journal.find("ünïcode-訂單-😀")
          expect(record?.executionId).toBe("ünïcode-訂單-😀")
          expect(record?.workflow).toBe("Zahlung-支払い")
          expect(record?.payload).toBe(`{"name":"Zoë 😀"}`)
          expect(record?.statusDetail).toBe("détail 中文 😀")
          expect(record?.result).toBe(`"résultat 🎉"`)
        }))

      test("returns emoji unchanged", (journal) =>
        Effect.gen(function*() {
          const texts = [
            "😀",
            "\u{1F600}\u{1F4A9}",
            "👩‍👩‍👧‍👦",
            "🏳️‍🌈",
            "🇺🇳🇯🇵",
            "👍🏽",
            JSON.stringify({ reaction: "🎉", skin: "👋🏿" })
          ]
          yield* journal.create(createInput("a"))
          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: texts.map((text, index) => entry("Emoji", 2_000 + index, text))
          })

          const entries = yield* journal.read("a")
          expect(entries.slice(1).map((e) => e.data)).toEqual(texts)
        }))

      test("returns escaped NUL and surrogates unchanged", (journal) =>
        Effect.gen(function*() {
          // JSON.stringify writes NUL and lone surrogates as escapes, so this is what the runtime stores.
          const texts = [JSON.stringify("a\u0000b"), JSON.stringify("\uD800"), JSON.stringify("x\uDFFFy")]
          expect(texts).toEqual([`"a\\u0000b"`, `"\\ud800"`, `"x\\udfffy"`])
          yield* journal.create(createInput("a"))
          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: texts.map((text, index) => entry("Escaped", 2_000 + index, text))
          })

          const entries = yield* journal.read("a")
          expect(entries.slice(1).map((e) => e.data)).toEqual(texts)
        }))

      // Raw NUL characters and lone surrogates are outside the contract: Postgres text cannot hold
      // NUL, and SQLite and Postgres store UTF-8, which has no lone surrogates. The runtime writes
      // JSON.stringify output, which escapes both (the escaped forms are tested above).

      test("returns a 1 MiB entry unchanged", (journal) =>
        Effect.gen(function*() {
          // 1 MiB in UTF-16 code units. The UTF-8 text is larger, because "€" takes 3 bytes.
          const size = 1_048_576
          // A repeating pattern with a multi-byte character, so a truncated or reordered text differs.
          const pattern = "0123456789abcdef€"
          const text = pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size)
          yield* journal.create(createInput("a"))
          yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("Large", 2_000, text)] })

          const entries = yield* journal.read("a")
          const stored = entries[1]?.data
          expect(stored?.length).toBe(size)
          // Compared as a boolean, because a diff of two 1 MiB strings would flood the output.
          expect(stored === text).toBe(true)
        }))

      test("status replaces detail and keeps result", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { recordedAt: 1_000 }))

          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("Completed", 2_000)],
            status: { status: "completed", result: "42", detail: "done" }
          })
          const completed = yield* journal.find("a")
          expect(completed?.status).toBe("completed")
          expect(completed?.result).toBe("42")
          expect(completed?.statusDetail).toBe("done")
          expect(completed?.updatedAt).toBe(2_000)
          expect(completed?.lastSequence).toBe(2)

          yield* journal.append({
            executionId: "a",
            expectedSequence: 3,
            entries: [entry("Parked", 3_000)],
            status: { status: "parked", detail: "needs an operator" }
          })
          const parked = yield* journal.find("a")
          expect(parked?.status).toBe("parked")
          expect(parked?.result).toBe("42")
          expect(parked?.statusDetail).toBe("needs an operator")
          expect(parked?.updatedAt).toBe(3_000)

          // An append without entries keeps `updatedAt`, and a status without detail clears it.
          yield* journal.append({ executionId: "a", expectedSequence: 4, entries: [], status: { status: "running" } })
          const resumed = yield* journal.find("a")
          expect(resumed?.status).toBe("running")
          expect(resumed?.result).toBe("42")
          expect(resumed?.statusDetail).toBeUndefined()
          expect(resumed?.updatedAt).toBe(3_000)
          expect(resumed?.lastSequence).toBe(3)

          yield* journal.append({
            executionId: "a",
            expectedSequence: 4,
            entries: [entry("Failed", 4_000)],
            status: { status: "failed", result: `"boom"`, detail: undefined }
          })
          const failed = yield* journal.find("a")
          expect(failed?.status).toBe("failed")
          expect(failed?.result).toBe(`"boom"`)
          expect(failed?.statusDetail).toBeUndefined()
          expect(failed?.updatedAt).toBe(4_000)
          expect(failed?.lastSequence).toBe(4)
          expect(failed?.createdAt).toBe(1_000)
        }))

      test("non-running status drops the lease", (journal) =>
        Effect.gen(function*() {
          for (const status of nonRunningStatuses) {
            yield* journal.create(createInput(status, { owner: owned("e1", longLeaseMs) }))
            yield* journal.append({
              executionId: status,
              expectedSequence: 2,
              entries: [entry("Step", 2_000)],
              status: { status },
              lease: lease("e1", 1)
            })
            const record = yield* journal.find(status)
            expect(record?.status, status).toBe(status)
            expect(record?.owner, status).toBeUndefined()
            expect(record?.leaseExpiresAt, status).toBeUndefined()
            expect(record?.epoch, status).toBe(1)
          }
        }))

      test("running status keeps the lease", (journal) =>
        Effect.gen(function*() {
          const { execution } = yield* journal.create(
            createInput("a", { owner: owned("e1", longLeaseMs) })
          )

          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("Step", 2_000)],
            status: { status: "running", detail: "step 2" },
            lease: lease("e1", 1)
          })

          const record = yield* journal.find("a")
          expect(record?.statusDetail).toBe("step 2")
          expect(record?.owner).toBe("e1")
          expect(record?.leaseExpiresAt).toBe(execution.leaseExpiresAt)
          expect(record?.epoch).toBe(1)
        }))

      test("to unknown id conflicts at 1", (journal) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(
            journal.append({ executionId: "none", expectedSequence: 2, entries: [entry("X", 2_000)] })
          )
          expectConflict(error, { executionId: "none", expectedSequence: 2, actualSequence: 1 })

          const withLease = yield* Effect.flip(
            journal.append({
              executionId: "none",
              expectedSequence: 1,
              entries: [entry("X", 2_000)],
              status: { status: "completed" },
              lease: lease("e1", 1)
            })
          )
          expectConflict(withLease, { executionId: "none", expectedSequence: 1, actualSequence: 1 })

          expect(yield* journal.read("none")).toEqual([])
          expect(yield* journal.find("none")).toBeUndefined()
          expect(yield* journal.list()).toEqual([])
        }))

      test("wrong sequence conflicts, writes nothing", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a"))
          yield* journal.append({ executionId: "a", expectedSequence: 2, entries: [entry("X", 2_000)] })
          const recordBefore = yield* journal.find("a")
          const entriesBefore = yield* journal.read("a")

          for (const expectedSequence of [1, 2, 4, 10]) {
            const error = yield* Effect.flip(
              journal.append({
                executionId: "a",
                expectedSequence,
                entries: [entry("Y", 3_000), entry("Z", 3_001)],
                status: { status: "failed", result: "boom", detail: "late" }
              })
            )
            expectConflict(error, { executionId: "a", expectedSequence, actualSequence: 3 })
          }

          expect(yield* journal.find("a")).toEqual(recordBefore)
          expect(yield* journal.read("a")).toEqual(entriesBefore)
        }))

      test("concurrent appends: exactly one wins", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a"))
          const writers = Array.from({ length: 6 }, (_, index) => index)

          const exits = yield* Effect.forEach(
            writers,
            (index) =>
              Effect.exit(
                journal.append({
                  executionId: "a",
                  expectedSequence: 2,
                  entries: [entry(`Writer${index}`, 2_000 + index), entry(`Writer${index}`, 2_100 + index)]
                })
              ),
            { concurrency: "unbounded" }
          )

          const winners = writers.filter((index) => Exit.isSuccess(exits[index]!))
          expect(winners).toHaveLength(1)
          for (const [index, exit] of exits.entries()) {
            if (index === winners[0]) continue
            const error = Exit.findErrorOption(exit)
            expect(Option.isSome(error), `writer ${index} failed with an error`).toBe(true)
            if (Option.isSome(error)) {
              expectConflict(error.value, { executionId: "a", expectedSequence: 2, actualSequence: 4 })
            }
          }
          const entries = yield* journal.read("a")
          expect(entries.map((e) => e.sequence)).toEqual([1, 2, 3])
          expect(entries.slice(1).map((e) => e.kind)).toEqual([`Writer${winners[0]}`, `Writer${winners[0]}`])
        }))

      test("stale lease is rejected, writes nothing", (journal) =>
        Effect.gen(function*() {
          // "other": owned by e1, written with e2's lease.
          yield* journal.create(createInput("other", { owner: owned("e1", longLeaseMs) }))
          // "older": e1's first lease lapsed and e1 claimed it again at epoch 2.
          yield* journal.create(createInput("older", { owner: owned("e1", shortLeaseMs) }))
          // "released": e1 released it, so it has no owner and epoch 1.
          yield* journal.create(createInput("released", { owner: owned("e1", longLeaseMs) }))
          yield* journal.release({ engineId: "e1", executionIds: ["released"] })
          // "unowned": never claimed, so any lease is stale.
          yield* journal.create(createInput("unowned"))
          // "finished": a paused status dropped e1's lease.
          yield* journal.create(createInput("finished", { owner: owned("e1", longLeaseMs) }))
          yield* journal.setStatus("finished", { status: "paused" }, lease("e1", 1))
          yield* lapse
          const reclaimed = yield* journal.claim({
            engineId: "e1",
            leaseMs: longLeaseMs,
            limit: 10,
            executionId: "older"
          })
          expect(ids(reclaimed)).toEqual(["older"])
          expect(reclaimed[0]?.epoch).toBe(2)

          const cases = [
            { executionId: "other", stale: lease("e2", 1) },
            { executionId: "older", stale: lease("e1", 1) },
            { executionId: "released", stale: lease("e1", 1) },
            { executionId: "unowned", stale: lease("e1", 0) },
            { executionId: "unowned", stale: lease("e1", 1) },
            { executionId: "finished", stale: lease("e1", 1) }
          ]
          for (const { executionId, stale } of cases) {
            const recordBefore = yield* journal.find(executionId)
            const entriesBefore = yield* journal.read(executionId)
            // The lease is checked before the sequence, so a wrong sequence still fails on the lease.
            for (const expectedSequence of [2, 1, 7]) {
              const error = yield* Effect.flip(
                journal.append({
                  executionId,
                  expectedSequence,
                  entries: [entry("Late", 5_000)],
                  status: { status: "completed", result: "late" },
                  lease: stale
                })
              )
              expectLeaseLost(error, { executionId, engineId: stale.engineId, epoch: stale.epoch })
            }
            expect(yield* journal.find(executionId), executionId).toEqual(recordBefore)
            expect(yield* journal.read(executionId), executionId).toEqual(entriesBefore)
          }
        }))

      test("current lease is accepted", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("created", { owner: owned("e1", longLeaseMs) }))
          yield* journal.create(createInput("claimed"))
          yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10, executionId: "claimed" })

          yield* journal.append({
            executionId: "created",
            expectedSequence: 2,
            entries: [entry("X", 2_000)],
            lease: lease("e1", 1)
          })
          yield* journal.append({
            executionId: "claimed",
            expectedSequence: 2,
            entries: [entry("X", 2_000)],
            lease: lease("e2", 1)
          })

          expect((yield* journal.read("created")).map((e) => e.kind)).toEqual(["Started", "X"])
          expect((yield* journal.read("claimed")).map((e) => e.kind)).toEqual(["Started", "X"])
          expect((yield* journal.find("claimed"))?.owner).toBe("e2")
        }))

      test("lease on lapsed but unclaimed row is accepted", (journal) =>
        Effect.gen(function*() {
          // A lapsed lease is stale only once another claim took the execution.
          yield* journal.create(createInput("a", { owner: owned("e1", shortLeaseMs) }))
          yield* lapse

          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("X", 2_000)],
            lease: lease("e1", 1)
          })

          expect(yield* journal.read("a")).toHaveLength(2)
        }))
    })

    describe("setStatus", () => {
      test("without lease changes only the row", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { recordedAt: 1_000 }))
          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("Completed", 2_000)],
            status: { status: "completed", result: "42" }
          })
          const entriesBefore = yield* journal.read("a")

          const { before, after } = yield* timed(journal.setStatus("a", { status: "parked", detail: "check" }))

          // `updatedAt` comes from the journal's clock, not from an event.
          expectRecord(yield* journal.find("a"), {
            executionId: "a",
            workflow: "Pay",
            status: "parked",
            payload: `{"orderId":"a"}`,
            result: "42",
            statusDetail: "check",
            lastSequence: 2,
            createdAt: 1_000,
            updatedAt: between(before, after),
            owner: undefined,
            leaseExpiresAt: undefined,
            epoch: 0
          })
          expect(yield* journal.read("a")).toEqual(entriesBefore)

          yield* journal.setStatus("a", { status: "failed", result: `"replaced"` })
          const failed = yield* journal.find("a")
          expect(failed?.status).toBe("failed")
          expect(failed?.result).toBe(`"replaced"`)
          expect(failed?.statusDetail).toBeUndefined()
        }))

      test("without lease drops an owner's lease", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { owner: owned("e1", longLeaseMs) }))

          yield* journal.setStatus("a", { status: "parked", detail: "operator" })

          const record = yield* journal.find("a")
          expect(record?.status).toBe("parked")
          expect(record?.owner).toBeUndefined()
          expect(record?.leaseExpiresAt).toBeUndefined()
          expect(record?.epoch).toBe(1)
        }))

      test("with current lease is accepted", (journal) =>
        Effect.gen(function*() {
          const { execution } = yield* journal.create(
            createInput("running", { owner: owned("e1", longLeaseMs) })
          )
          yield* journal.setStatus("running", { status: "running", detail: "waiting" }, lease("e1", 1))
          const running = yield* journal.find("running")
          expect(running?.status).toBe("running")
          expect(running?.statusDetail).toBe("waiting")
          expect(running?.owner).toBe("e1")
          expect(running?.leaseExpiresAt).toBe(execution.leaseExpiresAt)
          expect(running?.epoch).toBe(1)

          for (const status of nonRunningStatuses) {
            yield* journal.create(createInput(status, { owner: owned("e1", longLeaseMs) }))
            yield* journal.setStatus(status, { status, detail: `now ${status}` }, lease("e1", 1))
            const record = yield* journal.find(status)
            expect(record?.status, status).toBe(status)
            expect(record?.statusDetail, status).toBe(`now ${status}`)
            expect(record?.owner, status).toBeUndefined()
            expect(record?.leaseExpiresAt, status).toBeUndefined()
            expect(record?.epoch, status).toBe(1)
            expect(record?.lastSequence, status).toBe(1)
          }
        }))

      test("with stale lease is rejected", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("other", { owner: owned("e1", longLeaseMs) }))
          yield* journal.create(createInput("older", { owner: owned("e1", shortLeaseMs) }))
          yield* journal.create(createInput("released", { owner: owned("e1", longLeaseMs) }))
          yield* journal.release({ engineId: "e1", executionIds: ["released"] })
          yield* journal.create(createInput("unowned"))
          yield* lapse
          // e2 claims "older" after e1's lease lapsed, so its epoch is 2.
          yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10, executionId: "older" })

          const cases = [
            { executionId: "other", stale: lease("e2", 1) },
            { executionId: "older", stale: lease("e1", 1) },
            { executionId: "older", stale: lease("e2", 1) },
            { executionId: "released", stale: lease("e1", 1) },
            { executionId: "unowned", stale: lease("e1", 0) }
          ]
          for (const { executionId, stale } of cases) {
            const recordBefore = yield* journal.find(executionId)
            const error = yield* Effect.flip(
              journal.setStatus(executionId, { status: "parked", detail: "late", result: "late" }, stale)
            )
            expectLeaseLost(error, { executionId, engineId: stale.engineId, epoch: stale.epoch })
            expect(yield* journal.find(executionId), executionId).toEqual(recordBefore)
          }
        }))

      test("of unknown id does nothing", (journal) =>
        Effect.gen(function*() {
          yield* journal.setStatus("none", { status: "failed", result: "x" })
          yield* journal.setStatus("none", { status: "paused" }, lease("e1", 1))

          expect(yield* journal.find("none")).toBeUndefined()
          expect(yield* journal.read("none")).toEqual([])
          expect(yield* journal.list()).toEqual([])
        }))
    })

    describe("read and find", () => {
      test("unknown id reads empty, finds nothing", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a"))

          expect(yield* journal.read("none")).toEqual([])
          expect(yield* journal.find("none")).toBeUndefined()
          // Ids are compared exactly.
          expect(yield* journal.find("A")).toBeUndefined()
          expect(yield* journal.find("a ")).toBeUndefined()
          expect(yield* journal.read("A")).toEqual([])
        }))

      test("returns corrupt rows unchanged", (journal) =>
        Effect.gen(function*() {
          const corrupt = ["{not json", "", "null", "   ", `{"_tag":"Unknown"`, "\\"]
          yield* journal.create(createInput("a", { payload: "{", first: entry("", 1_000, "not json either") }))
          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: corrupt.map((data, index) => entry(`Teleported${index}`, 2_000 + index, data)),
            status: { status: "completed", result: "{]", detail: "" }
          })

          const entries = yield* journal.read("a")
          expect(entries[0]).toEqual({
            executionId: "a",
            sequence: 1,
            kind: "",
            data: "not json either",
            recordedAt: 1_000
          })
          expect(entries.slice(1).map((e) => e.data)).toEqual(corrupt)
          const record = yield* journal.find("a")
          expect(record?.payload).toBe("{")
          expect(record?.result).toBe("{]")
          expect(record?.statusDetail).toBe("")
        }))

      test("find returns every field", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { workflow: "Ship", payload: `{"parcel":7}`, recordedAt: 1_000 }))
          const { before, after } = yield* timed(journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 1 }))
          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("Shipped", 2_000), entry("Delivered", 2_500)],
            status: { status: "running", detail: "in transit", result: `"partial"` },
            lease: lease("e1", 1)
          })

          expectRecord(yield* journal.find("a"), {
            executionId: "a",
            workflow: "Ship",
            status: "running",
            payload: `{"parcel":7}`,
            result: `"partial"`,
            statusDetail: "in transit",
            lastSequence: 3,
            createdAt: 1_000,
            updatedAt: 2_500,
            owner: "e1",
            leaseExpiresAt: between(before + longLeaseMs, after + longLeaseMs),
            epoch: 1
          })
        }))
    })

    describe("list", () => {
      test("lists all, oldest first", (journal) =>
        Effect.gen(function*() {
          // "c" and "a" share a millisecond, so their order is the order of creation.
          yield* journal.create(createInput("b", { recordedAt: 1_000 }))
          yield* journal.create(createInput("c", { recordedAt: 2_000 }))
          yield* journal.create(createInput("a", { recordedAt: 2_000 }))
          yield* journal.create(createInput("d", { recordedAt: 3_000 }))

          const all = yield* journal.list()
          expect(ids(all)).toEqual(["b", "c", "a", "d"])
          expect(ids(yield* journal.list({ status: undefined }))).toEqual(["b", "c", "a", "d"])
          expect(ids(yield* journal.list({}))).toEqual(["b", "c", "a", "d"])
          for (const record of all) expect(record).toEqual(yield* journal.find(record.executionId))
        }))

      test("filters by one or several statuses", (journal) =>
        Effect.gen(function*() {
          const statuses: ReadonlyArray<ExecutionStatus> = ["failed", "running", "completed", "paused", "parked"]
          for (const [index, status] of statuses.entries()) {
            yield* journal.create(createInput(`${status}-1`, { recordedAt: 1_000 + index }))
          }
          for (const [index, status] of statuses.entries()) {
            yield* journal.create(createInput(`${status}-2`, { recordedAt: 2_000 + index }))
          }
          for (const status of statuses) {
            if (status === "running") continue
            yield* journal.setStatus(`${status}-1`, { status })
            yield* journal.setStatus(`${status}-2`, { status })
          }

          for (const status of statuses) {
            const listed = yield* journal.list({ status: [status] })
            expect(ids(listed), status).toEqual([`${status}-1`, `${status}-2`])
            for (const record of listed) expect(record.status, status).toBe(status)
          }
          // The result is in creation order, not in the order of the filter.
          expect(ids(yield* journal.list({ status: ["parked", "failed"] }))).toEqual([
            "failed-1",
            "parked-1",
            "failed-2",
            "parked-2"
          ])
          expect(ids(yield* journal.list({ status: ["completed", "running", "paused"] }))).toEqual([
            "running-1",
            "completed-1",
            "paused-1",
            "running-2",
            "completed-2",
            "paused-2"
          ])
          expect(yield* journal.list({ status: [...statuses] })).toHaveLength(10)
          expect(yield* journal.list({ status: [] })).toEqual([])
        }))

      test("empty journal lists nothing", (journal) =>
        Effect.gen(function*() {
          expect(yield* journal.list()).toEqual([])
          expect(yield* journal.list({ status: ["running"] })).toEqual([])
        }))
    })

    describe("claim", () => {
      test("takes unowned running rows", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { recordedAt: 1_000 }))

          const { value: claimed, before, after } = yield* timed(
            journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10 })
          )

          expect(claimed).toHaveLength(1)
          const expected: ExpectedRecord = {
            executionId: "a",
            workflow: "Pay",
            status: "running",
            payload: `{"orderId":"a"}`,
            result: undefined,
            statusDetail: undefined,
            lastSequence: 1,
            createdAt: 1_000,
            updatedAt: 1_000,
            owner: "e1",
            leaseExpiresAt: between(before + longLeaseMs, after + longLeaseMs),
            epoch: 1
          }
          expectRecord(claimed[0], expected)
          expect(yield* journal.find("a")).toEqual(claimed[0])
          expect(yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })).toEqual([])
        }))

      test("takes lapsed leases", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("other", { owner: owned("e1", shortLeaseMs) }))
          yield* journal.create(createInput("own", { owner: owned("e2", shortLeaseMs) }))
          yield* lapse

          // A lapsed lease is free for its own engine too, without `includeOwn`.
          const { value: claimed, before, after } = yield* timed(
            journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })
          )

          expect(ids(claimed)).toEqual(["other", "own"])
          for (const record of claimed) {
            expect(record.owner, record.executionId).toBe("e2")
            expect(record.epoch, record.executionId).toBe(2)
            expect(record.leaseExpiresAt, record.executionId).toBeGreaterThanOrEqual(before + longLeaseMs)
            expect(record.leaseExpiresAt, record.executionId).toBeLessThanOrEqual(after + longLeaseMs)
          }
        }))

      test("skips others' live leases", (journal) =>
        Effect.gen(function*() {
          const { execution } = yield* journal.create(
            createInput("a", { owner: owned("e1", longLeaseMs) })
          )

          expect(yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })).toEqual([])
          expect(
            yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10, includeOwn: true })
          ).toEqual([])
          expect(
            yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10, executionId: "a" })
          ).toEqual([])
          expect(yield* journal.find("a")).toEqual(execution)
        }))

      test("skips non-running rows", (journal) =>
        Effect.gen(function*() {
          for (const status of nonRunningStatuses) {
            yield* journal.create(createInput(status))
            yield* journal.setStatus(status, { status })
          }
          // A row that lost its lease to a non-running status is not claimable, even by its old owner.
          yield* journal.create(createInput("dropped", { owner: owned("e1", shortLeaseMs) }))
          yield* journal.setStatus("dropped", { status: "paused" })
          yield* lapse

          expect(yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10 })).toEqual([])
          expect(
            yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, includeOwn: true })
          ).toEqual([])
          for (const status of nonRunningStatuses) {
            expect(
              yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, executionId: status })
            ).toEqual([])
            const record = yield* journal.find(status)
            expect(record?.owner, status).toBeUndefined()
            expect(record?.epoch, status).toBe(0)
          }
        }))

      test("includeOwn takes own live leases", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("own", { recordedAt: 1_000, owner: owned("e1", longLeaseMs) }))
          yield* journal.create(createInput("free", { recordedAt: 2_000 }))
          yield* journal.create(
            createInput("other", { recordedAt: 3_000, owner: owned("e2", longLeaseMs) })
          )

          const withoutOwn = yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10 })
          expect(ids(withoutOwn)).toEqual(["free"])

          const { value: withOwn, before, after } = yield* timed(
            journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, includeOwn: true })
          )
          expect(ids(withOwn)).toEqual(["own", "free"])
          expect(withOwn.map((record) => record.epoch)).toEqual([2, 2])
          for (const record of withOwn) {
            expect(record.owner, record.executionId).toBe("e1")
            expect(record.leaseExpiresAt, record.executionId).toBeGreaterThanOrEqual(before + longLeaseMs)
            expect(record.leaseExpiresAt, record.executionId).toBeLessThanOrEqual(after + longLeaseMs)
          }
          expect((yield* journal.find("other"))?.owner).toBe("e2")
        }))

      test("executionId limits to one row", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { recordedAt: 1_000 }))
          yield* journal.create(createInput("b", { recordedAt: 2_000 }))
          yield* journal.create(createInput("own", { recordedAt: 3_000, owner: owned("e1", longLeaseMs) }))

          const claimed = yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, executionId: "b" })
          expect(ids(claimed)).toEqual(["b"])
          expect((yield* journal.find("a"))?.owner).toBeUndefined()

          expect(
            yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, executionId: "none" })
          ).toEqual([])
          expect(
            yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, executionId: "own" })
          ).toEqual([])
          const own = yield* journal.claim({
            engineId: "e1",
            leaseMs: longLeaseMs,
            limit: 10,
            executionId: "own",
            includeOwn: true
          })
          expect(ids(own)).toEqual(["own"])
          expect(own[0]?.epoch).toBe(2)
          expect(yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 0, executionId: "a" })).toEqual([])
        }))

      test("workflows limits to those workflows", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("pay-1", { workflow: "Pay", recordedAt: 1_000 }))
          yield* journal.create(createInput("ship-1", { workflow: "Ship", recordedAt: 2_000 }))
          yield* journal.create(createInput("refund-1", { workflow: "Refund", recordedAt: 3_000 }))
          yield* journal.create(createInput("pay-2", { workflow: "Pay", recordedAt: 4_000 }))

          expect(
            yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, workflows: [] })
          ).toEqual([])
          expect(
            yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, workflows: ["Unknown"] })
          ).toEqual([])
          const pay = yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 10, workflows: ["Pay"] })
          expect(ids(pay)).toEqual(["pay-1", "pay-2"])
          const shipOrRefund = yield* journal.claim({
            engineId: "e2",
            leaseMs: longLeaseMs,
            limit: 10,
            workflows: ["Refund", "Ship"]
          })
          expect(ids(shipOrRefund)).toEqual(["ship-1", "refund-1"])
          expect((yield* journal.find("pay-1"))?.owner).toBe("e1")
          expect((yield* journal.find("ship-1"))?.owner).toBe("e2")
        }))

      test("workflows combines with executionId", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("pay-1", { workflow: "Pay" }))

          expect(
            yield* journal.claim({
              engineId: "e1",
              leaseMs: longLeaseMs,
              limit: 10,
              executionId: "pay-1",
              workflows: ["Ship"]
            })
          ).toEqual([])
          expect((yield* journal.find("pay-1"))?.owner).toBeUndefined()
          const claimed = yield* journal.claim({
            engineId: "e1",
            leaseMs: longLeaseMs,
            limit: 10,
            executionId: "pay-1",
            workflows: ["Pay"]
          })
          expect(ids(claimed)).toEqual(["pay-1"])
        }))

      test("takes oldest first, up to limit", (journal) =>
        Effect.gen(function*() {
          // "c" and "a" share a millisecond, so their order is the order of creation.
          yield* journal.create(createInput("b", { recordedAt: 1_000 }))
          yield* journal.create(createInput("c", { recordedAt: 2_000 }))
          yield* journal.create(createInput("a", { recordedAt: 2_000 }))
          yield* journal.create(createInput("e", { recordedAt: 3_000 }))
          yield* journal.create(createInput("d", { recordedAt: 4_000 }))

          expect(yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 0 })).toEqual([])
          expect(ids(yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 2 }))).toEqual(["b", "c"])
          expect(ids(yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 1 }))).toEqual(["a"])
          expect(ids(yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 }))).toEqual(["e", "d"])
          expect(yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })).toEqual([])
          const withOwn = yield* journal.claim({ engineId: "e1", leaseMs: longLeaseMs, limit: 2, includeOwn: true })
          expect(ids(withOwn)).toEqual(["b", "c"])
        }))

      test("increments the epoch on each claim", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a"))
          const epochs: Array<number | undefined> = []
          const claimA = (engineId: string, leaseMs: number, includeOwn = false) =>
            Effect.map(
              journal.claim({ engineId, leaseMs, limit: 10, executionId: "a", includeOwn }),
              (claimed) => {
                expect(ids(claimed), `claim by ${engineId}`).toEqual(["a"])
                epochs.push(claimed[0]?.epoch)
              }
            )

          yield* claimA("e1", shortLeaseMs)
          yield* lapse
          yield* claimA("e2", shortLeaseMs)
          yield* lapse
          yield* claimA("e2", longLeaseMs)
          yield* claimA("e2", longLeaseMs, true)
          yield* journal.release({ engineId: "e2", executionIds: ["a"] })
          yield* claimA("e1", longLeaseMs)

          expect(epochs).toEqual([1, 2, 3, 4, 5])
          expect((yield* journal.find("a"))?.epoch).toBe(5)
        }))

      test("parallel claims take each row once", (journal) =>
        Effect.gen(function*() {
          const executionCount = 30
          for (let index = 0; index < executionCount; index++) {
            yield* journal.create(createInput(`order-${index}`, { recordedAt: 1_000 + index }))
          }
          const engines = ["e0", "e1", "e2", "e3", "e4"]

          const claimAll = (engineId: string) =>
            Effect.gen(function*() {
              const claimed: Array<string> = []
              while (true) {
                const batch = yield* journal.claim({ engineId, leaseMs: longLeaseMs, limit: 3 })
                if (batch.length === 0) return claimed
                claimed.push(...ids(batch))
                // Lets the other fibers claim in between, also on a backend whose calls never suspend.
                yield* Effect.yieldNow
              }
            })
          const claims = yield* Effect.forEach(engines, claimAll, { concurrency: "unbounded" })

          const all = claims.flat()
          expect(all).toHaveLength(executionCount)
          expect(new Set(all).size).toBe(executionCount)
          // The test shows nothing unless the claims interleaved.
          expect(claims.filter((claimed) => claimed.length > 0).length).toBeGreaterThan(1)
          for (const [index, engineId] of engines.entries()) {
            for (const executionId of claims[index]!) {
              const record = yield* journal.find(executionId)
              expect(record?.owner, executionId).toBe(engineId)
              expect(record?.epoch, executionId).toBe(1)
            }
          }
        }))
    })

    describe("renew", () => {
      test("extends own running leases", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("created", { recordedAt: 1_000, owner: owned("e1", longLeaseMs) }))
          yield* journal.create(createInput("claimed", { recordedAt: 2_000 }))
          yield* journal.claim({ engineId: "e1", leaseMs: shortLeaseMs, limit: 10 })
          yield* journal.create(createInput("reclaimed", { recordedAt: 3_000, owner: owned("e1", shortLeaseMs) }))
          yield* journal.create(createInput("other", { recordedAt: 4_000, owner: owned("e2", longLeaseMs) }))
          yield* journal.create(createInput("free", { recordedAt: 5_000 }))
          yield* lapse
          yield* journal.claim({ engineId: "e1", leaseMs: shortLeaseMs, limit: 10, executionId: "reclaimed" })
          const other = yield* journal.find("other")

          // Lapsed leases that no other engine claimed are still the engine's own, so they are renewed.
          const renewLeaseMs = 120_000
          const { value: renewed, before, after } = yield* timed(
            journal.renew({ engineId: "e1", leaseMs: renewLeaseMs })
          )

          expect(byExecutionId(renewed)).toEqual([
            { executionId: "claimed", epoch: 1 },
            { executionId: "created", epoch: 1 },
            { executionId: "reclaimed", epoch: 2 }
          ])
          for (const executionId of ["created", "claimed", "reclaimed"]) {
            const record = yield* journal.find(executionId)
            expect(record?.owner, executionId).toBe("e1")
            expect(record?.leaseExpiresAt, executionId).toBeGreaterThanOrEqual(before + renewLeaseMs)
            expect(record?.leaseExpiresAt, executionId).toBeLessThanOrEqual(after + renewLeaseMs)
          }
          expect(yield* journal.find("other")).toEqual(other)
          expect((yield* journal.find("free"))?.owner).toBeUndefined()
          expect(yield* journal.renew({ engineId: "e3", leaseMs: renewLeaseMs })).toEqual([])
        }))

      test("keeps renewed leases from lapsing", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { owner: owned("e1", shortLeaseMs) }))

          yield* journal.renew({ engineId: "e1", leaseMs: longLeaseMs })
          yield* lapse

          expect(yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })).toEqual([])
          expect((yield* journal.find("a"))?.owner).toBe("e1")
        }))

      test("skips rows claimed away", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { owner: owned("e1", shortLeaseMs) }))
          yield* lapse
          const [claimed] = yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })

          expect(yield* journal.renew({ engineId: "e1", leaseMs: 120_000 })).toEqual([])
          expect(yield* journal.find("a")).toEqual(claimed)
        }))

      test("skips non-running rows", (journal) =>
        Effect.gen(function*() {
          for (const status of nonRunningStatuses) {
            yield* journal.create(createInput(status, { owner: owned("e1", longLeaseMs) }))
            yield* journal.setStatus(status, { status }, lease("e1", 1))
          }

          expect(yield* journal.renew({ engineId: "e1", leaseMs: longLeaseMs })).toEqual([])
          for (const status of nonRunningStatuses) {
            const record = yield* journal.find(status)
            expect(record?.owner, status).toBeUndefined()
            expect(record?.leaseExpiresAt, status).toBeUndefined()
          }
        }))
    })

    describe("release", () => {
      test("frees own rows, keeps the epoch", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("own", { recordedAt: 1_000, owner: owned("e1", longLeaseMs) }))
          yield* journal.create(createInput("other", { recordedAt: 2_000, owner: owned("e2", longLeaseMs) }))
          yield* journal.create(createInput("lapsed", { recordedAt: 3_000, owner: owned("e2", shortLeaseMs) }))
          yield* journal.create(createInput("free", { recordedAt: 4_000 }))
          yield* lapse
          const own = yield* journal.find("own")
          const other = yield* journal.find("other")
          const lapsed = yield* journal.find("lapsed")
          const free = yield* journal.find("free")

          yield* journal.release({ engineId: "e1", executionIds: ["own", "other", "lapsed", "free", "none"] })

          expectRecord(yield* journal.find("own"), {
            ...own!,
            owner: undefined,
            leaseExpiresAt: undefined,
            epoch: 1
          })
          expect(yield* journal.find("other")).toEqual(other)
          // e1 cannot release e2's row, even after e2's lease lapsed.
          expect(yield* journal.find("lapsed")).toEqual(lapsed)
          expect(yield* journal.find("free")).toEqual(free)
          expect(yield* journal.find("none")).toBeUndefined()
        }))

      test("makes rows claimable at once", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { owner: owned("e1", longLeaseMs) }))
          expect(yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })).toEqual([])

          yield* journal.release({ engineId: "e1", executionIds: ["a"] })
          const claimed = yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })

          expect(ids(claimed)).toEqual(["a"])
          expect(claimed[0]?.owner).toBe("e2")
          expect(claimed[0]?.epoch).toBe(2)
        }))

      test("ignores unknown ids and empty lists", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { owner: owned("e1", longLeaseMs) }))
          const before = yield* journal.find("a")

          yield* journal.release({ engineId: "e1", executionIds: [] })
          yield* journal.release({ engineId: "e1", executionIds: ["none", "other"] })
          yield* journal.release({ engineId: "e2", executionIds: ["a"] })

          expect(yield* journal.find("a")).toEqual(before)
          expect(yield* journal.list()).toHaveLength(1)
        }))

      test("by a lapsed owner after a reclaim does nothing", (journal) =>
        Effect.gen(function*() {
          yield* journal.create(createInput("a", { owner: owned("e1", shortLeaseMs) }))
          yield* lapse
          const [claimed] = yield* journal.claim({ engineId: "e2", leaseMs: longLeaseMs, limit: 10 })

          yield* journal.release({ engineId: "e1", executionIds: ["a"] })

          expect(yield* journal.find("a")).toEqual(claimed)
        }))
    })

    describe("watch", () => {
      it("reports creates, status changes, releases", async (context) => {
        const hasWatch = await run(Effect.map(backend.make(), (journal) => journal.watch !== undefined))
        if (!hasWatch) context.skip(`the ${backend.name} journal has no watch`)

        await run(Effect.gen(function*() {
          const journal = yield* backend.make()
          const changes: Array<JournalChange> = []
          // A child of the test's scope, so that the watch also ends when an assertion fails before the
          // test closes it.
          const watchScope = yield* Scope.fork(yield* Effect.scope)
          yield* journal.watch!((change) => changes.push(change)).pipe(Scope.provide(watchScope))

          yield* journal.create(createInput("a", { recordedAt: 1_000 }))
          yield* journal.create(createInput("b", { recordedAt: 2_000, owner: owned("e1", longLeaseMs) }))
          yield* journal.append({
            executionId: "a",
            expectedSequence: 2,
            entries: [entry("Paused", 3_000)],
            status: { status: "paused", detail: "wait" }
          })
          yield* journal.setStatus("a", { status: "running" })
          yield* journal.append({
            executionId: "b",
            expectedSequence: 2,
            entries: [entry("Step", 3_000)],
            status: { status: "running", detail: "step" },
            lease: lease("e1", 1)
          })
          yield* journal.release({ engineId: "e1", executionIds: ["b"] })
          // Rejected writes change nothing, so they report nothing.
          yield* Effect.flip(journal.setStatus("b", { status: "failed" }, lease("e1", 1)))
          yield* Effect.flip(journal.append({
            executionId: "b",
            expectedSequence: 9,
            entries: [],
            status: { status: "failed" }
          }))
          yield* journal.setStatus("b", { status: "completed", result: `"ok"` })

          const expected: Array<JournalChange> = [
            { executionId: "a", status: "running", claimable: true },
            { executionId: "b", status: "running", claimable: false },
            { executionId: "a", status: "paused", claimable: false },
            { executionId: "a", status: "running", claimable: true },
            { executionId: "b", status: "running", claimable: false },
            { executionId: "b", status: "running", claimable: true },
            { executionId: "b", status: "completed", claimable: false }
          ]
          yield* waitUntil(`${expected.length} changes arrived`, () => changes.length >= expected.length)
          // Gives a late extra change time to arrive before the exact comparison.
          yield* Effect.sleep("50 millis")
          expect(changes).toEqual(expected)

          yield* Scope.close(watchScope, Exit.void)
          yield* journal.create(createInput("c", { recordedAt: 4_000 }))
          yield* journal.setStatus("a", { status: "parked" })
          yield* Effect.sleep("100 millis")
          expect(changes).toHaveLength(expected.length)
        }))
      })
    })
  })
}
