/**
 * One run of one execution: load and decode its log, replay the body against it, and journal the
 * workflow's outcome, or stop the run when it pauses, parks or loses its journal.
 */
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type { ExecutionStatus, JournalEntry, Lease } from "../DurableExecutionJournal"
import { fromEntry, type Outcome } from "../JournalEvent"
import type * as Workflow from "../Workflow"
import { WorkflowContext } from "../WorkflowContext"
import { JournalDecodeError, NonDeterminismError, WorkflowDefectError } from "../WorkflowError"
import { decodeJson, encodeJson, storableText } from "./codec"
import { type EngineHooks, Execution, type ParkReason, type StopReason } from "./Execution"
import * as ReplayIndex from "./ReplayIndex"

export type RunOutcome =
  | { readonly _tag: "Finished"; readonly status: ExecutionStatus; readonly result: string }
  | { readonly _tag: "Interrupted" }
  | StopReason

export const runExecution = (
  hooks: EngineHooks,
  workflow: Workflow.Any,
  executionId: string,
  lease: Lease | undefined,
  services: Context.Context<never>,
  /** The log when the caller just wrote all of it (a new execution), which saves reading it back. */
  known?: ReadonlyArray<JournalEntry>
): Effect.Effect<RunOutcome> =>
  Effect.gen(function*() {
    const entries = yield* Effect.result(known === undefined ? hooks.journal.read(executionId) : Effect.succeed(known))
    if (entries._tag === "Failure") return { _tag: "JournalFailed", error: entries.failure } as const

    const decoded = yield* Effect.result(Effect.forEach(entries.success, fromEntry))
    if (decoded._tag === "Failure") return yield* park(hooks, executionId, lease, decoded.failure)

    const index = ReplayIndex.build(decoded.success)
    if (typeof index === "string") {
      return yield* park(hooks, executionId, lease, new JournalDecodeError({ executionId, value: "", issue: index }))
    }
    if (index.outcome !== undefined) {
      return finished(index.outcome)
    }

    const request = yield* Effect.result(decodeJson(workflow.request as never, index.payload))
    if (request._tag === "Failure") {
      return yield* park(
        hooks,
        executionId,
        lease,
        new JournalDecodeError({
          executionId,
          sequence: 1,
          value: JSON.stringify(index.payload),
          issue: `the recorded payload does not match the request schema of workflow "${workflow.tag}": ` +
            request.failure
        })
      )
    }

    const stop = yield* Deferred.make<StopReason>()
    const execution = new Execution(executionId, workflow.tag, index, hooks, stop, lease, index.lastSequence + 1)
    const body = (workflow.body(request.success) as Effect.Effect<unknown, unknown, WorkflowContext>).pipe(
      Effect.provideService(WorkflowContext, {
        executionId,
        workflow: workflow.tag,
        isGracefulShutdown: Effect.sync(hooks.isShuttingDown),
        execution
      }),
      Effect.provideContext(services)
    )
    const fiber = yield* Effect.forkChild(body)
    const first = yield* Effect.raceFirst(
      Effect.map(Fiber.await(fiber), (exit) => ({ _tag: "Exit", exit }) as const),
      Effect.map(Deferred.await(stop), (reason) => ({ _tag: "Stop", reason }) as const)
    ).pipe(
      // On a graceful shutdown, outcomes recorded but not yet written are written before the run
      // ends, so the next run does not repeat those activities.
      Effect.onInterrupt(() => Effect.andThen(Fiber.interrupt(fiber), Effect.ignore(execution.flush())))
    )
    if (first._tag === "Stop") {
      yield* Fiber.interrupt(fiber)
      if (first.reason._tag !== "Parked") return first.reason
      return yield* parkExecution(execution, first.reason.error)
    }
    return yield* complete(hooks, workflow, execution, first.exit)
  }).pipe(
    Effect.annotateLogs({ executionId, workflow: workflow.tag }),
    // Spans of the engine's own boundaries capture no stack trace, which would point into the engine.
    Effect.withSpan(`Workflow.${workflow.tag}`, { attributes: { "waymark.execution_id": executionId } }, {
      captureStackTrace: false
    })
  )

/** Journals the workflow's outcome, after checking that replay consumed every recorded outcome. */
const complete = (
  hooks: EngineHooks,
  workflow: Workflow.Any,
  execution: Execution,
  exit: Exit.Exit<unknown, unknown>
): Effect.Effect<RunOutcome> =>
  Effect.gen(function*() {
    const { executionId } = execution
    if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) return { _tag: "Interrupted" } as const

    const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : undefined
    if (Exit.isFailure(exit) && error?._tag !== "Some") {
      return yield* parkExecution(
        execution,
        new WorkflowDefectError({ executionId, workflow: workflow.tag, defect: Cause.pretty(exit.cause) })
      )
    }

    const skipped = execution.firstUnconsumedOutcome()
    if (skipped !== undefined) {
      return yield* parkExecution(
        execution,
        new NonDeterminismError({
          executionId,
          workflow: workflow.tag,
          requested: "the end of the workflow",
          recorded: ReplayIndex.describeStep(skipped.step)
        })
      )
    }

    const isSuccess = Exit.isSuccess(exit)
    let value: unknown = undefined
    if (Exit.isSuccess(exit)) value = exit.value
    else if (error?._tag === "Some") value = error.value
    const encoded = yield* Effect.result(
      encodeJson(isSuccess ? workflow.request.success : workflow.request.failure, value)
    )
    if (encoded._tag === "Failure") {
      const defect = `the workflow's ${isSuccess ? "result" : "failure"} does not match the request's ` +
        `${isSuccess ? "success" : "failure"} schema: ${encoded.failure}`
      return yield* parkExecution(execution, new WorkflowDefectError({ executionId, workflow: workflow.tag, defect }))
    }
    const outcome: Outcome = isSuccess
      ? { _tag: "Success", value: encoded.success as never }
      : { _tag: "Failure", error: encoded.success as never }
    const result = JSON.stringify(outcome)
    const status = isSuccess ? "completed" : "failed"
    const appended = yield* Effect.result(execution.tryAppend([{ _tag: "Completed", outcome }], { status, result }))
    if (appended._tag === "Failure") return { _tag: "JournalFailed", error: appended.failure } as const
    yield* Effect.logInfo(`Workflow ${status}`)
    return { _tag: "Finished", status, result } as const
  })

const finished = (outcome: Outcome): RunOutcome => ({
  _tag: "Finished",
  status: outcome._tag === "Success" ? "completed" : "failed",
  result: JSON.stringify(outcome)
})

/** Writes the run's pending outcomes, then parks the execution. */
const parkExecution = (execution: Execution, error: ParkReason): Effect.Effect<RunOutcome> =>
  Effect.flatMap(Effect.result(execution.flush()), (flushed) =>
    flushed._tag === "Failure"
      ? Effect.succeed({ _tag: "JournalFailed", error: flushed.failure } as const)
      : park(execution.hooks, execution.executionId, execution.lease, error))

/**
 * Marks the execution parked on its status row only. Its log is not touched, so what was recorded
 * stays exactly as it was for the operator to inspect.
 */
const park = (
  hooks: EngineHooks,
  executionId: string,
  lease: Lease | undefined,
  error: ParkReason
): Effect.Effect<RunOutcome> =>
  Effect.gen(function*() {
    yield* Effect.logError("Execution parked", error.message)
    const written = yield* Effect.result(
      hooks.journal.setStatus(executionId, { status: "parked", detail: storableText(error.message) }, lease)
    )
    if (written._tag === "Failure") return { _tag: "JournalFailed", error: written.failure } as const
    return { _tag: "Parked", error } as const
  })
