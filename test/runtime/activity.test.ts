import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { Activity, Workflow, WorkflowRequest } from "@waymark/runtime"
import { backends } from "../support/journals"
import { awaitStatus, fastRetry, kinds, run, seed, withEngine } from "../support/harness"

class Declined extends Schema.TaggedError<Declined>()("Declined", { reason: Schema.String }) {}

class Order extends WorkflowRequest<Order>()("Order", {
  payload: { orderId: Schema.String },
  success: Schema.String,
  failure: Declined
}) {}

const orderPayload = (orderId: string) => ({ _tag: "Order", orderId })

describe.each(backends)("Activity on the $name journal", (backend) => {
  it("returns a recorded outcome without running again", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const calls: Array<string> = []
      const step = (name: string) =>
        Effect.sync(() => {
          calls.push(name)
          return `${name}-result`
        }).pipe(Activity.make(name, Schema.String))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () =>
        Effect.gen(function*() {
          const first = yield* step("first")
          const second = yield* step("second")
          return `${first}+${second}`
        }))
      // A process that died after `first` completed and `second` started.
      yield* seed(journal, {
        executionId: "Order@o-1",
        workflow: "Order",
        payload: orderPayload("o-1"),
        events: [
          { _tag: "ActivityAttempted", step: "first#1", activity: "first", attempt: 1 },
          {
            _tag: "ActivityCompleted",
            step: "first#1",
            activity: "first",
            attempt: 1,
            outcome: { _tag: "Success", value: "recorded-first" }
          },
          { _tag: "ActivityAttempted", step: "second#1", activity: "second", attempt: 1 }
        ]
      })
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Order({ orderId: "o-1" })))
      expect(result).toBe("recorded-first+second-result")
      expect(calls).toEqual(["second"])
      const log = yield* kinds(journal, "Order@o-1")
      expect(log).toEqual([
        "Started",
        "ActivityAttempted:first",
        "ActivityCompleted:first",
        "ActivityAttempted:second",
        "ActivityAttemptFailed:second",
        "ActivityAttempted:second",
        "ActivityCompleted:second",
        "Completed"
      ])
    })))

  it("keeps the persistence id across attempts and restarts", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const seen: Array<{ key: string; attempt: number }> = []
      const flaky = Effect.gen(function*() {
        const key = yield* Activity.persistenceId
        const attempt = yield* Activity.currentAttempt
        seen.push({ key, attempt })
        if (attempt < 4) return yield* Effect.die(new Error(`attempt ${attempt} failed`))
        return "ok"
      }).pipe(Activity.make("flaky", Schema.String, Schema.Never, { retry: fastRetry() }))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () => flaky)
      yield* seed(journal, {
        executionId: "Order@o-2",
        workflow: "Order",
        payload: orderPayload("o-2"),
        events: [{ _tag: "ActivityAttempted", step: "flaky#1", activity: "flaky", attempt: 1 }]
      })
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Order({ orderId: "o-2" })))
      expect(result).toBe("ok")
      expect(seen.map((entry) => entry.attempt)).toEqual([2, 3, 4])
      expect(new Set(seen.map((entry) => entry.key))).toEqual(new Set(["Order@o-2/flaky#1"]))
    })))

  it("continues the journaled retry count after a restart", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const attempts: Array<number> = []
      const broken = Activity.currentAttempt.pipe(
        Effect.tap((attempt) => Effect.sync(() => attempts.push(attempt))),
        Effect.flatMap(() => Effect.die(new Error("still broken"))),
        Activity.make("broken", Schema.String, Schema.Never, { retry: fastRetry(3) })
      )
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () => broken)
      const failed = (attempt: number) =>
        [
          { _tag: "ActivityAttempted", step: "broken#1", activity: "broken", attempt },
          {
            _tag: "ActivityAttemptFailed",
            step: "broken#1",
            activity: "broken",
            attempt,
            defect: "boom",
            retryAt: 0
          }
        ] as const
      yield* seed(journal, {
        executionId: "Order@o-3",
        workflow: "Order",
        payload: orderPayload("o-3"),
        events: [...failed(1), ...failed(2)]
      })
      const error = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Order({ orderId: "o-3" }))))
      // Two failures were journaled before the restart; the schedule allows three retries, so only
      // attempts 3 and 4 run here.
      expect(attempts).toEqual([3, 4])
      expect(error._tag).toBe("ExecutionParkedError")
      expect(error.message).toContain(`Activity "broken"`)
      expect(error.message).toContain("retry schedule is exhausted")
      const record = yield* journal.find("Order@o-3")
      expect(record?.status).toBe("parked")
    })))

  it("parks at once on an infinite retry delay", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let calls = 0
      const never = Effect.suspend(() => {
        calls++
        return Effect.die(new Error("down"))
      }).pipe(Activity.make("never-again", Schema.String, Schema.Never, {
        retry: Schedule.spaced(Duration.infinity) as Schedule.Schedule<unknown, unknown>
      }))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () => never)
      const error = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Order({ orderId: "o-11" }))))
      expect(error._tag).toBe("ExecutionParkedError")
      expect(calls).toBe(1)
      const failures = (yield* journal.read("Order@o-11"))
        .filter((entry) => entry.kind === "ActivityAttemptFailed")
        .map((entry) => JSON.parse(entry.data).retryAt)
      expect(failures).toEqual([null])
    })))

  it("ends a schedule limited by elapsed time", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let calls = 0
      const down = Effect.suspend(() => {
        calls++
        return Effect.die(new Error("down"))
      }).pipe(Activity.make("down", Schema.String, Schema.Never, {
        retry: Schedule.spaced("20 millis").pipe(Schedule.upTo({ duration: "100 millis" })) as Schedule.Schedule<
          unknown,
          unknown
        >
      }))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () => down)
      const error = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Order({ orderId: "o-12" }))))
      expect(error._tag).toBe("ExecutionParkedError")
      expect(calls).toBeGreaterThanOrEqual(3)
      expect(calls).toBeLessThanOrEqual(8)
    })))

  it("waits for a journaled retry time after a restart", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const startedAt: Array<number> = []
      const retried = Effect.sync(() => {
        startedAt.push(Date.now())
        return "done"
      }).pipe(Activity.make("retried", Schema.String))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () => retried)
      const retryAt = Date.now() + 400
      yield* seed(journal, {
        executionId: "Order@o-4",
        workflow: "Order",
        payload: orderPayload("o-4"),
        events: [
          { _tag: "ActivityAttempted", step: "retried#1", activity: "retried", attempt: 1 },
          { _tag: "ActivityAttemptFailed", step: "retried#1", activity: "retried", attempt: 1, defect: "x", retryAt }
        ]
      })
      yield* withEngine(journal, [workflow], () => awaitStatus(journal, "Order@o-4", "completed"))
      expect(startedAt).toHaveLength(1)
      expect(startedAt[0]).toBeGreaterThanOrEqual(retryAt)
    })))

  it("records a typed failure and hands it to the workflow", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let calls = 0
      const charge = Effect.suspend(() => {
        calls++
        return Effect.fail(new Declined({ reason: "insufficient funds" }))
      }).pipe(Activity.make("charge", Schema.Void, Declined))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () =>
        charge.pipe(Effect.as("charged")))
      const error = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Order({ orderId: "o-5" }))))
      expect(error).toBeInstanceOf(Declined)
      expect(error).toMatchObject({ _tag: "Declined", reason: "insufficient funds" })
      expect(calls).toBe(1)
      const record = yield* journal.find("Order@o-5")
      expect(record?.status).toBe("failed")
      expect(yield* kinds(journal, "Order@o-5")).toEqual([
        "Started",
        "ActivityAttempted:charge",
        "ActivityCompleted:charge",
        "Completed"
      ])
      // Sending again returns the recorded failure without running anything.
      const again = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Order({ orderId: "o-5" }))))
      expect(again).toBeInstanceOf(Declined)
      expect(calls).toBe(1)
    })))

  it("retries typed failures when the activity opts in", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let calls = 0
      const charge = Effect.suspend(() => {
        calls++
        return calls < 3 ? Effect.fail(new Declined({ reason: "gateway busy" })) : Effect.succeed("paid")
      }).pipe(Activity.make("charge", Schema.String, Declined, {
        retry: fastRetry(),
        retryFailures: (error) => error.reason === "gateway busy"
      }))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () => charge)
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Order({ orderId: "o-6" })))
      expect(result).toBe("paid")
      expect(calls).toBe(3)
    })))

  it("tells sequential calls of one name apart", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const keys: Array<string> = []
      const poll = (round: number) =>
        Activity.persistenceId.pipe(
          Effect.tap((key) => Effect.sync(() => keys.push(key))),
          Effect.as(`round-${round}`),
          Activity.make("poll", Schema.String)
        )
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () =>
        Effect.gen(function*() {
          const results: Array<string> = []
          for (let round = 1; round <= 3; round++) results.push(yield* poll(round))
          yield* Workflow.yieldExecution("check replay")
          return results.join(",")
        }))
      yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.sendDiscard(new Order({ orderId: "o-7" })), awaitStatus(journal, "Order@o-7", "paused")))
      const result = yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.resume("Order@o-7"), engine.send(new Order({ orderId: "o-7" }))))
      expect(result).toBe("round-1,round-2,round-3")
      expect(keys).toEqual(["Order@o-7/poll#1", "Order@o-7/poll#2", "Order@o-7/poll#3"])
    })))

  it("rejects concurrent calls of one name", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const slow = (value: string) =>
        Effect.sleep("20 millis").pipe(Effect.as(value), Activity.make("fetch-price", Schema.String))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () =>
        Effect.all([slow("a"), slow("b")], { concurrency: "unbounded" }).pipe(Effect.map((values) => values.join())))
      const error = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Order({ orderId: "o-8" }))))
      expect(error._tag).toBe("ExecutionParkedError")
      expect(error.message).toContain(`Activity "fetch-price" was started while another call of "fetch-price"`)
      const record = yield* journal.find("Order@o-8")
      expect(record?.status).toBe("parked")
      expect(record?.statusDetail).toContain("fetch-price")
    })))

  it("replays parallel activities", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const calls: Array<string> = []
      const item = (name: string, delay: number) =>
        Effect.sleep(`${delay} millis`).pipe(
          Effect.andThen(Effect.sync(() => {
            calls.push(name)
            return name.toUpperCase()
          })),
          Activity.make(`item-${name}`, Schema.String)
        )
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () =>
        Effect.gen(function*() {
          const values = yield* Effect.all([item("a", 30), item("b", 5), item("c", 15)], { concurrency: "unbounded" })
          yield* Workflow.yieldExecution()
          const last = yield* item("d", 0)
          return [...values, last].join("")
        }))
      yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.sendDiscard(new Order({ orderId: "o-9" })), awaitStatus(journal, "Order@o-9", "paused")))
      expect([...calls].sort()).toEqual(["a", "b", "c"])
      const result = yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.resume("Order@o-9"), engine.send(new Order({ orderId: "o-9" }))))
      expect(result).toBe("ABCD")
      expect([...calls].sort()).toEqual(["a", "b", "c", "d"])
    })))

  it("resumes only the unfinished branch of a parallel step", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const calls: Array<string> = []
      const item = (name: string) =>
        Effect.sync(() => {
          calls.push(name)
          return name
        }).pipe(Activity.make(`item-${name}`, Schema.String))
      const workflow = Workflow.make(Order, (request) => `Order@${request.orderId}`, () =>
        Effect.all([item("a"), item("b")], { concurrency: "unbounded" }).pipe(Effect.map((values) => values.join())))
      yield* seed(journal, {
        executionId: "Order@o-10",
        workflow: "Order",
        payload: orderPayload("o-10"),
        events: [
          { _tag: "ActivityAttempted", step: "item-a#1", activity: "item-a", attempt: 1 },
          { _tag: "ActivityAttempted", step: "item-b#1", activity: "item-b", attempt: 1 },
          {
            _tag: "ActivityCompleted",
            step: "item-b#1",
            activity: "item-b",
            attempt: 1,
            outcome: { _tag: "Success", value: "recorded-b" }
          }
        ]
      })
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Order({ orderId: "o-10" })))
      expect(result).toBe("a,recorded-b")
      expect(calls).toEqual(["a"])
    })))
})
