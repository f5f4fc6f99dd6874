import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { Activity, type DurableExecutionJournal, Workflow, WorkflowError, WorkflowRequest } from "@waymark/runtime"
import { backends } from "../support/journals"
import { awaitStatus, run, withEngine } from "../support/harness"

class Job extends WorkflowRequest<Job>()("Job", {
  payload: { jobId: Schema.String },
  success: Schema.String
}) {}

const jobId = (request: Job) => `Job@${request.jobId}`
const fast = { leaseDuration: "300 millis", pollInterval: "20 millis", gracePeriod: 0 } as const

describe.each(backends)("Engines sharing the $name journal", (backend) => {
  it("runs one execution for a request sent to two engines", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const runs: Array<string> = []
      const work = (engine: string) =>
        Effect.sync(() => runs.push(engine)).pipe(
          Effect.andThen(Effect.sleep("30 millis")),
          Effect.as(engine),
          Activity.make("work", Schema.String)
        )
      const on = (engine: string) => Workflow.make(Job, jobId, () => work(engine))
      const results = yield* withEngine(journal, [on("a")], (a) =>
        withEngine(journal, [on("b")], (b) =>
          Effect.all([a.send(new Job({ jobId: "j-1" })), b.send(new Job({ jobId: "j-1" }))], {
            concurrency: "unbounded"
          }), fast), fast)
      expect(runs).toHaveLength(1)
      expect(results[0]).toBe(results[1])
    })))

  it("hands a shut-down engine's execution to another", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const attempts: Array<string> = []
      const started = yield* Deferred.make<void>()
      const work = (engine: string) =>
        Effect.gen(function*() {
          attempts.push(engine)
          if (engine === "a") {
            yield* Deferred.succeed(started, undefined)
            return yield* Effect.never
          }
          return engine
        }).pipe(Activity.make("work", Schema.String))
      const on = (engine: string) => Workflow.make(Job, jobId, () => work(engine))
      const result = yield* withEngine(journal, [on("b")], (b) =>
        Effect.gen(function*() {
          yield* withEngine(journal, [on("a")], (a) =>
            Effect.andThen(a.sendDiscard(new Job({ jobId: "j-2" })), Deferred.await(started)), fast)
          return yield* b.send(new Job({ jobId: "j-2" }))
        }), fast)
      expect(result).toBe("b")
      expect(attempts).toEqual(["a", "b"])
    })))

  it("takes over an execution whose lease lapsed", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const started = yield* Deferred.make<void>()
      let stoppedOnA = false
      const work = (engine: string) =>
        Effect.gen(function*() {
          if (engine === "a") {
            yield* Deferred.succeed(started, undefined)
            return yield* Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (stoppedOnA = true))))
          }
          return engine
        }).pipe(Activity.make("work", Schema.String))
      const on = (engine: string) => Workflow.make(Job, jobId, () => work(engine))
      // Engine a cannot renew its leases: it must stop its run before the lease lapses.
      const frozen: DurableExecutionJournal.Journal = {
        ...journal,
        renew: () => Effect.fail(new WorkflowError.JournalError({ operation: "renew", cause: "blocked by the test" }))
      }
      const result = yield* withEngine(frozen, [on("a")], (a) =>
        Effect.gen(function*() {
          yield* a.sendDiscard(new Job({ jobId: "j-3" }))
          yield* Deferred.await(started)
          return yield* withEngine(journal, [on("b")], (b) => b.send(new Job({ jobId: "j-3" })), fast)
        }), fast)
      expect(result).toBe("b")
      expect(stoppedOnA).toBe(true)
      const log = (yield* journal.read("Job@j-3")).map((entry) => entry.kind)
      expect(log.filter((kind) => kind === "Completed")).toHaveLength(1)
    })))

  it("stops a run whose lease another engine took", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const started = yield* Deferred.make<void>()
      const stopped = yield* Deferred.make<void>()
      const work = Deferred.succeed(started, undefined).pipe(
        Effect.andThen(Effect.never),
        Effect.onInterrupt(() => Deferred.succeed(stopped, undefined)),
        Activity.make("work", Schema.String)
      )
      const workflow = Workflow.make(Job, jobId, () => work)
      let stolen = false
      // Once the run has started, another engine takes the lease, so this engine's renewal finds
      // the execution gone and its late writes are rejected.
      const robbed: DurableExecutionJournal.Journal = {
        ...journal,
        // Without pushed changes, this engine cannot claim the execution back between the release
        // and the other engine's claim.
        watch: undefined,
        renew: (input) =>
          stolen
            ? journal.renew(input)
            : Effect.gen(function*() {
              stolen = true
              yield* journal.release({ engineId: input.engineId, executionIds: ["Job@j-5"] })
              yield* journal.claim({ engineId: "thief", leaseMs: 60_000, limit: 1, executionId: "Job@j-5" })
              return yield* journal.renew(input)
            })
      }
      yield* withEngine(robbed, [workflow], (engine) =>
        Effect.gen(function*() {
          yield* engine.sendDiscard(new Job({ jobId: "j-5" }))
          yield* Deferred.await(started)
          yield* Deferred.await(stopped)
        }), fast)
      const record = yield* journal.find("Job@j-5")
      expect(record?.owner).toBe("thief")
      expect(record?.status).toBe("running")
      const log = (yield* journal.read("Job@j-5")).map((entry) => entry.kind)
      expect(log).toEqual(["Started", "ActivityAttempted"])
    })))

  it("keeps running when it claims its own lapsed lease", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      // The attempt blocks the event loop past the lease, so the engine's claim poll takes its own
      // lapsed lease back (a new epoch) while the run goes on.
      const blocking = Effect.sync(() => {
        const until = Date.now() + 450
        while (Date.now() < until) {
          // busy wait
        }
        return "done"
      }).pipe(Activity.make("blocking", Schema.String))
      const after = Effect.sleep("50 millis").pipe(Effect.as("after"), Activity.make("after", Schema.String))
      const workflow = Workflow.make(Job, jobId, () => Effect.andThen(blocking, after))
      const result = yield* withEngine(journal, [workflow], (engine) => engine.send(new Job({ jobId: "j-6" })), {
        ...fast,
        leaseDuration: "150 millis"
      })
      expect(result).toBe("after")
      const record = yield* journal.find("Job@j-6")
      expect(record?.status).toBe("completed")
    })))

  it("runs again what it stopped when renewals failed", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let failUntil = 0
      // The lease operations fail for a while, as in an outage: a claim would otherwise hold the
      // lease as well as a renewal does.
      const unreachable = (operation: string) =>
        Effect.fail(new WorkflowError.JournalError({ operation, cause: "unreachable in the test" }))
      const flaky: DurableExecutionJournal.Journal = {
        ...journal,
        renew: (input) => Date.now() < failUntil ? unreachable("renew") : journal.renew(input),
        claim: (input) => Date.now() < failUntil ? unreachable("claim") : journal.claim(input)
      }
      let attempts = 0
      const work = Effect.suspend(() => {
        attempts++
        if (attempts === 1) failUntil = Date.now() + 600
        return Effect.sleep("300 millis").pipe(Effect.as(`attempt ${attempts}`))
      }).pipe(Activity.make("work", Schema.String))
      const workflow = Workflow.make(Job, jobId, () => work)
      const result = yield* withEngine(flaky, [workflow], (engine) => engine.send(new Job({ jobId: "j-7" })), {
        ...fast,
        leaseDuration: "150 millis"
      })
      // The run is stopped before its lease lapses while renewals fail, and runs again after.
      expect(attempts).toBeGreaterThanOrEqual(2)
      expect(result).toBe(`attempt ${attempts}`)
      expect((yield* journal.find("Job@j-7"))?.status).toBe("completed")
    })))

  it("runs at most maxRunningExecutions at once", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let active = 0
      let peak = 0
      const work = Effect.acquireUseRelease(
        Effect.sync(() => {
          active++
          peak = Math.max(peak, active)
        }),
        () => Effect.sleep("30 millis").pipe(Effect.as("done")),
        () => Effect.sync(() => active--)
      ).pipe(Activity.make("work", Schema.String))
      const workflow = Workflow.make(Job, jobId, () => work)
      const results = yield* withEngine(journal, [workflow], (engine) =>
        Effect.forEach(["a", "b", "c", "d"], (id) => engine.send(new Job({ jobId: `j-8-${id}` })), {
          concurrency: "unbounded"
        }), { ...fast, maxRunningExecutions: 1 })
      expect(results).toEqual(["done", "done", "done", "done"])
      expect(peak).toBe(1)
    })))

  it("lets one engine wait for a result computed by another", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const gate = yield* Deferred.make<void>()
      const work = Deferred.await(gate).pipe(Effect.as("done"), Activity.make("work", Schema.String))
      const workflow = Workflow.make(Job, jobId, () => work)
      const result = yield* withEngine(journal, [workflow], (a) =>
        withEngine(journal, [workflow], (b) =>
          Effect.gen(function*() {
            yield* a.sendDiscard(new Job({ jobId: "j-4" }))
            const waiting = yield* Effect.forkChild(b.send(new Job({ jobId: "j-4" })))
            yield* Effect.sleep("50 millis")
            yield* Deferred.succeed(gate, undefined)
            return yield* Fiber.join(waiting)
          }), fast), fast)
      expect(result).toBe("done")
      const record = yield* awaitStatus(journal, "Job@j-4", "completed")
      expect(record.owner).toBeUndefined()
    })))
})
