import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { Activity, Workflow, WorkflowRequest } from "@waymark/runtime"
import { backends } from "../support/journals"
import { awaitStatus, run, seed, withEngine } from "../support/harness"

class Trip extends WorkflowRequest<Trip>()("Trip", {
  payload: { tripId: Schema.String },
  success: Schema.String
}) {}

const tripId = (request: Trip) => `Trip@${request.tripId}`
const payload = (id: string) => ({ _tag: "Trip", tripId: id })

const completed = (activity: string, value: string) =>
  [
    { _tag: "ActivityAttempted", step: `${activity}#1`, activity, attempt: 1 },
    {
      _tag: "ActivityCompleted",
      step: `${activity}#1`,
      activity,
      attempt: 1,
      outcome: { _tag: "Success", value }
    }
  ] as const

describe.each(backends)("Replay on the $name journal", (backend) => {
  it("parks on a step the journal does not record", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let calls = 0
      const step = (name: string) =>
        Effect.sync(() => {
          calls++
          return name
        }).pipe(Activity.make(name, Schema.String))
      // The code now books the hotel first; the journal recorded the flight first.
      const workflow = Workflow.make(Trip, tripId, () =>
        Effect.gen(function*() {
          const hotel = yield* step("book-hotel")
          const flight = yield* step("book-flight")
          return `${hotel}+${flight}`
        }))
      yield* seed(journal, { executionId: "Trip@t-1", workflow: "Trip", payload: payload("t-1"), events: completed("book-flight", "F1") })
      const before = yield* journal.read("Trip@t-1")
      const error = yield* withEngine(journal, [workflow], (engine) => Effect.flip(engine.send(new Trip({ tripId: "t-1" }))))
      expect(error._tag).toBe("ExecutionParkedError")
      expect(error.message).toContain(`requested activity "book-hotel" (call 1)`)
      expect(error.message).toContain(`records activity "book-flight" (call 1)`)
      expect(calls).toBe(0)
      expect(yield* journal.read("Trip@t-1")).toEqual(before)
      const record = yield* journal.find("Trip@t-1")
      expect(record?.status).toBe("parked")
      expect(record?.statusDetail).toContain("diverged")
    })))

  it("parks when a recorded step is never requested", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const workflow = Workflow.make(Trip, tripId, () => Effect.succeed("nothing to do"))
      yield* seed(journal, { executionId: "Trip@t-2", workflow: "Trip", payload: payload("t-2"), events: completed("book-flight", "F1") })
      const before = yield* journal.read("Trip@t-2")
      yield* withEngine(journal, [workflow], () => awaitStatus(journal, "Trip@t-2", "parked"))
      const record = yield* journal.find("Trip@t-2")
      expect(record?.statusDetail).toContain(`requested the end of the workflow`)
      expect(record?.statusDetail).toContain(`records activity "book-flight" (call 1)`)
      expect(yield* journal.read("Trip@t-2")).toEqual(before)
    })))

  it("resumes a parked execution after a fix", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const step = (name: string) => Effect.succeed(`${name}-live`).pipe(Activity.make(name, Schema.String))
      const broken = Workflow.make(Trip, tripId, () => step("book-hotel"))
      const fixed = Workflow.make(Trip, tripId, () =>
        Effect.gen(function*() {
          const flight = yield* step("book-flight")
          const hotel = yield* step("book-hotel")
          return `${flight}+${hotel}`
        }))
      yield* seed(journal, { executionId: "Trip@t-3", workflow: "Trip", payload: payload("t-3"), events: completed("book-flight", "F1") })
      yield* withEngine(journal, [broken], () => awaitStatus(journal, "Trip@t-3", "parked"))
      const result = yield* withEngine(journal, [fixed], (engine) =>
        Effect.andThen(engine.resume("Trip@t-3"), engine.send(new Trip({ tripId: "t-3" }))))
      expect(result).toBe("F1+book-hotel-live")
    })))

  it("parks on steps taken in another order", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const step = (name: string) => Effect.succeed(name).pipe(Activity.make(name, Schema.String))
      const workflow = Workflow.make(Trip, tripId, () =>
        Effect.gen(function*() {
          const hotel = yield* step("book-hotel")
          const flight = yield* step("book-flight")
          return `${hotel}+${flight}`
        }))
      // The journal recorded the flight first, then the hotel.
      yield* seed(journal, {
        executionId: "Trip@t-5",
        workflow: "Trip",
        payload: payload("t-5"),
        events: [
          { _tag: "ActivityAttempted", step: "book-flight#1", activity: "book-flight", attempt: 1, after: null },
          ...completed("book-flight", "F1").slice(1),
          {
            _tag: "ActivityAttempted",
            step: "book-hotel#1",
            activity: "book-hotel",
            attempt: 1,
            after: "book-flight#1"
          }
        ]
      })
      yield* withEngine(journal, [workflow], () => awaitStatus(journal, "Trip@t-5", "parked"))
      const record = yield* journal.find("Trip@t-5")
      expect(record?.statusDetail).toContain(
        `requested activity "book-hotel" (call 1) after the start of its branch`
      )
      expect(record?.statusDetail).toContain(`records activity "book-hotel" (call 1) after activity "book-flight"`)
    })))

  it("never swaps results between branches", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const tag = (label: string) => Effect.succeed(label).pipe(Activity.make("tag", Schema.String))
      const wait = (name: string, millis: number) =>
        Effect.sleep(`${millis} millis`).pipe(Activity.make(name, Schema.Void))
      const workflow = Workflow.make(Trip, tripId, () =>
        Effect.gen(function*() {
          const [a, b] = yield* Effect.all([
            Effect.andThen(wait("slow", 60), tag("from-A")),
            Effect.andThen(wait("fast", 0), tag("from-B"))
          ], { concurrency: "unbounded" })
          yield* Workflow.yieldExecution()
          return `${a}|${b}`
        }))
      yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.sendDiscard(new Trip({ tripId: "t-6" })), awaitStatus(journal, "Trip@t-6", "paused")))
      const result = yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.resume("Trip@t-6"), Effect.result(engine.send(new Trip({ tripId: "t-6" })))))
      // Replay may take the two calls in either order: it must then park, never swap the results.
      if (result._tag === "Success") expect(result.success).toBe("from-A|from-B")
      else expect(result.failure.message).toContain(`diverged`)
    })))

  it("hands the first run the value a replay decodes", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const seen: Array<unknown> = []
      const read = Effect.succeed({ kept: 1, dropped: "secret", zero: -0 }).pipe(
        Activity.make("read", Schema.Struct({ kept: Schema.Number, zero: Schema.Number }))
      )
      const workflow = Workflow.make(Trip, tripId, () =>
        Effect.gen(function*() {
          const value = yield* read
          seen.push(value)
          return JSON.stringify(value)
        }))
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Trip({ tripId: "t-7" })))
      expect(seen).toEqual([{ kept: 1, zero: 0 }])
      expect(Object.is((seen[0] as { zero: number }).zero, -0)).toBe(false)
      expect(result).toBe(`{"kept":1,"zero":0}`)
    })))

  it("round-trips values through the journal", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const Values = Schema.Struct({
        at: Schema.Date,
        big: Schema.BigInt,
        notANumber: Schema.Number,
        infinite: Schema.Number,
        optional: Schema.optional(Schema.String),
        nested: Schema.Array(Schema.Struct({ key: Schema.String }))
      })
      const original = {
        at: new Date("2026-12-04T10:00:00.000Z"),
        big: 12345678901234567890n,
        notANumber: Number.NaN,
        infinite: Number.POSITIVE_INFINITY,
        nested: [{ key: "a" }]
      }
      let calls = 0
      const read = Effect.sync(() => {
        calls++
        return original
      }).pipe(Activity.make("read-values", Values))
      const workflow = Workflow.make(Trip, tripId, () =>
        Effect.gen(function*() {
          const values = yield* read
          yield* Workflow.yieldExecution()
          const replayed = yield* read.pipe(Effect.andThen(() => Effect.succeed(values)))
          return [
            replayed.at.toISOString(),
            String(replayed.big),
            String(replayed.notANumber),
            String(replayed.infinite),
            String(replayed.optional),
            replayed.nested[0]?.key
          ].join(" ")
        }))
      yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.sendDiscard(new Trip({ tripId: "t-4" })), awaitStatus(journal, "Trip@t-4", "paused")))
      const result = yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.resume("Trip@t-4"), engine.send(new Trip({ tripId: "t-4" }))))
      expect(result).toBe("2026-12-04T10:00:00.000Z 12345678901234567890 NaN Infinity undefined a")
      expect(calls).toBe(2)
    })))
})
