import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { Activity, FaultInjection, Workflow, WorkflowContext, WorkflowRequest } from "@waymark/runtime"
import { backends } from "../support/journals"
import { awaitStatus, kinds, run, seed, withEngine } from "../support/harness"

class OutOfStock extends Schema.TaggedError<OutOfStock>()("OutOfStock", { item: Schema.String }) {}

class Ship extends WorkflowRequest<Ship>()("Ship", {
  payload: { orderId: Schema.String },
  success: Schema.Boolean,
  failure: OutOfStock
}) {}

const shipId = (request: Ship) => `Ship@${request.orderId}`

describe.each(backends)("WorkflowEngine on the $name journal", (backend) => {
  it("joins one execution for the same request", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let starts = 0
      const gate = yield* Deferred.make<void>()
      const reserve = Effect.sync(() => starts++).pipe(
        Effect.andThen(Deferred.await(gate)),
        Activity.make("reserve", Schema.Void)
      )
      const workflow = Workflow.make(Ship, shipId, () => reserve.pipe(Effect.as(true)))
      const results = yield* withEngine(journal, [workflow], (engine) =>
        Effect.gen(function*() {
          const first = yield* Effect.forkChild(engine.send(new Ship({ orderId: "s-1" })))
          const second = yield* Effect.forkChild(engine.send(new Ship({ orderId: "s-1" })))
          const id = yield* engine.sendDiscard(new Ship({ orderId: "s-1" }))
          yield* Effect.sleep("20 millis")
          yield* Deferred.succeed(gate, undefined)
          return [yield* Fiber.join(first), yield* Fiber.join(second), id] as const
        }))
      expect(results).toEqual([true, true, "Ship@s-1"])
      expect(starts).toBe(1)
      expect(yield* journal.list()).toHaveLength(1)
    })))

  it("returns from sendDiscard once the start is durable", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const workflow = Workflow.make(Ship, shipId, () => Effect.never)
      const id = yield* withEngine(journal, [workflow], (engine) => engine.sendDiscard(new Ship({ orderId: "s-2" })), {
        gracePeriod: 0
      })
      expect(id).toBe("Ship@s-2")
      const record = yield* journal.find(id)
      expect(record?.status).toBe("running")
      expect(record?.workflow).toBe("Ship")
      expect(JSON.parse(record?.payload ?? "null")).toEqual({ _tag: "Ship", orderId: "s-2" })
    })))

  it("resumes unfinished executions on start", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let runs = 0
      const workflow = Workflow.make(Ship, shipId, () =>
        Effect.sync(() => runs++).pipe(Activity.make("pack", Schema.Number), Effect.as(true)))
      yield* seed(journal, { executionId: "Ship@s-3", workflow: "Ship", payload: { _tag: "Ship", orderId: "s-3" } })
      yield* seed(journal, { executionId: "Ship@s-4", workflow: "Ship", payload: { _tag: "Ship", orderId: "s-4" } })
      yield* withEngine(journal, [workflow], () =>
        Effect.andThen(awaitStatus(journal, "Ship@s-3", "completed"), awaitStatus(journal, "Ship@s-4", "completed")))
      expect(runs).toBe(2)
    })))

  it("interrupts on shutdown without failing the execution", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const observed: Array<boolean> = []
      let calls = 0
      const started = yield* Deferred.make<void>()
      const pack = Effect.gen(function*() {
        calls++
        if (calls > 1) return "packed"
        yield* Deferred.succeed(started, undefined)
        // Waits for the shutdown to begin, then keeps running past the grace period.
        while (!(yield* WorkflowContext.isGracefulShutdown)) yield* Effect.sleep("5 millis")
        observed.push(true)
        return yield* Effect.never
      }).pipe(Activity.make("pack", Schema.String))
      const workflow = Workflow.make(Ship, shipId, () => pack.pipe(Effect.as(true)))
      const waiter = yield* withEngine(journal, [workflow], (engine) =>
        Effect.gen(function*() {
          const waiting = yield* Effect.forkDetach(Effect.flip(engine.send(new Ship({ orderId: "s-5" }))))
          yield* Deferred.await(started)
          return waiting
        }), { gracePeriod: "50 millis" })
      const stopped = yield* Fiber.join(waiter)
      expect(stopped._tag).toBe("EngineStoppedError")
      expect(observed).toEqual([true])
      const record = yield* journal.find("Ship@s-5")
      expect(record?.status).toBe("running")
      expect(yield* kinds(journal, "Ship@s-5")).toEqual([
        "Started",
        "ActivityAttempted:pack",
        "ActivityAttemptInterrupted:pack"
      ])
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Ship({ orderId: "s-5" })))
      expect(result).toBe(true)
      expect(calls).toBe(2)
    })))

  it("lets a running attempt finish within the grace period", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const started = yield* Deferred.make<void>()
      let finished = 0
      const label = Deferred.succeed(started, undefined).pipe(
        Effect.andThen(Effect.sleep("40 millis")),
        Effect.andThen(Effect.sync(() => finished++)),
        Activity.make("label", Schema.Number)
      )
      const workflow = Workflow.make(Ship, shipId, () => label.pipe(Effect.as(true)))
      yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.sendDiscard(new Ship({ orderId: "s-6" })), Deferred.await(started)), {
        gracePeriod: "2 seconds"
      })
      expect(finished).toBe(1)
      expect(yield* kinds(journal, "Ship@s-6")).toEqual(["Started", "ActivityAttempted:label", "ActivityCompleted:label"])
      expect((yield* journal.find("Ship@s-6"))?.status).toBe("running")
    })))

  it("pauses on yieldExecution until resumed", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const calls: Array<string> = []
      const step = (name: string) =>
        Effect.sync(() => calls.push(name)).pipe(Activity.make(name, Schema.Number))
      const workflow = Workflow.make(Ship, shipId, () =>
        Effect.gen(function*() {
          yield* step("before")
          yield* Workflow.yieldExecution("needs approval")
          yield* step("after")
          return true
        }))
      const result = yield* withEngine(journal, [workflow], (engine) =>
        Effect.gen(function*() {
          const waiting = yield* Effect.forkChild(engine.send(new Ship({ orderId: "s-7" })))
          const paused = yield* awaitStatus(journal, "Ship@s-7", "paused")
          expect(paused.statusDetail).toBe("needs approval")
          expect(calls).toEqual(["before"])
          const early = yield* Effect.flip(engine.resume("Ship@missing"))
          expect(early._tag).toBe("ExecutionNotFoundError")
          yield* engine.resume("Ship@s-7")
          return yield* Fiber.join(waiting)
        }))
      expect(result).toBe(true)
      expect(calls).toEqual(["before", "after"])
      expect(yield* kinds(journal, "Ship@s-7")).toEqual([
        "Started",
        "ActivityAttempted:before",
        "ActivityCompleted:before",
        "Paused",
        "Resumed",
        "ActivityAttempted:after",
        "ActivityCompleted:after",
        "Completed"
      ])
      const again = yield* withEngine(journal, [workflow], (engine) => Effect.flip(engine.resume("Ship@s-7")))
      expect(again._tag).toBe("ExecutionNotResumableError")
      expect(again.message).toContain("is completed")
    })))

  it("resumes a pause that is still winding down", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const paused = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      // Holds the run right after its pause is durable, before the run has ended.
      const faults = (point: FaultInjection.FaultPoint) =>
        point._tag === "AfterAppend" && point.events[0]?._tag === "Paused"
          ? Effect.andThen(Deferred.succeed(paused, undefined), Deferred.await(release))
          : Effect.void
      const workflow = Workflow.make(Ship, shipId, () =>
        Workflow.yieldExecution("approval").pipe(Effect.as(true)))
      const result = yield* withEngine(journal, [workflow], (engine) =>
        Effect.gen(function*() {
          const waiting = yield* Effect.forkChild(engine.send(new Ship({ orderId: "s-10" })))
          yield* Deferred.await(paused)
          yield* engine.resume("Ship@s-10")
          yield* Deferred.succeed(release, undefined)
          return yield* Fiber.join(waiting)
        })).pipe(Effect.provideService(FaultInjection.FaultInjection, faults))
      expect(result).toBe(true)
    })))

  it("runs a compensation through catchTag", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const calls: Array<string> = []
      const charge = Effect.sync(() => calls.push("charge")).pipe(Activity.make("charge", Schema.Number))
      const reserve = Effect.suspend(() => {
        calls.push("reserve")
        return Effect.fail(new OutOfStock({ item: "lamp" }))
      }).pipe(Activity.make("reserve", Schema.Void, OutOfStock))
      const refund = Effect.sync(() => calls.push("refund")).pipe(Activity.make("refund", Schema.Number))
      const workflow = Workflow.make(Ship, shipId, () =>
        Effect.gen(function*() {
          yield* charge
          yield* reserve
          return true
        }).pipe(Effect.catchTag("OutOfStock", () => refund.pipe(Effect.as(false)))))
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Ship({ orderId: "s-8" })))
      expect(result).toBe(false)
      expect(calls).toEqual(["charge", "reserve", "refund"])
      expect(yield* kinds(journal, "Ship@s-8")).toEqual([
        "Started",
        "ActivityAttempted:charge",
        "ActivityCompleted:charge",
        "ActivityAttempted:reserve",
        "ActivityCompleted:reserve",
        "ActivityAttempted:refund",
        "ActivityCompleted:refund",
        "Completed"
      ])
    })))

  it("replays a compensation without running it again", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const calls: Array<string> = []
      const reserve = Effect.suspend(() => {
        calls.push("reserve")
        return Effect.fail(new OutOfStock({ item: "lamp" }))
      }).pipe(Activity.make("reserve", Schema.Void, OutOfStock))
      const refund = Effect.sync(() => calls.push("refund")).pipe(Activity.make("refund", Schema.Number))
      const workflow = Workflow.make(Ship, shipId, () =>
        reserve.pipe(
          Effect.as(true),
          Effect.catchTag("OutOfStock", () =>
            Effect.gen(function*() {
              yield* refund
              yield* Workflow.yieldExecution("refunded")
              return false
            }))
        ))
      yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.sendDiscard(new Ship({ orderId: "s-9" })), awaitStatus(journal, "Ship@s-9", "paused")))
      const result = yield* withEngine(journal, [workflow], (engine) =>
        Effect.andThen(engine.resume("Ship@s-9"), engine.send(new Ship({ orderId: "s-9" }))))
      expect(result).toBe(false)
      expect(calls).toEqual(["reserve", "refund"])
    })))
})
