/**
 * The attempt loop of one activity call: replay a recorded outcome, or run attempts until one
 * succeeds or fails for good, journaling each attempt before it runs and each outcome before the
 * workflow receives it.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type { Definition } from "../Activity"
import { ActivityContext } from "../ActivityContext"
import type { Outcome } from "../JournalEvent"
import * as WorkflowContext from "../WorkflowContext"
import { ActivityRetriesExhaustedError, DuplicateActivityError, JournalDecodeError } from "../WorkflowError"
import { decodeJson, encodeJson } from "./codec"
import type { Execution } from "./Execution"
import type { AttemptHistory, StepHistory } from "./ReplayIndex"

export const runActivity = <S extends Schema.Top, F extends Schema.Top, R>(
  definition: Definition<S, F>,
  effect: Effect.Effect<S["Type"], F["Type"], R>
): Effect.Effect<S["Type"], F["Type"], R | WorkflowContext.WorkflowContext> =>
  Effect.gen(function*() {
    const context = yield* WorkflowContext.require(`Activity "${definition.name}"`)
    const execution = context.execution
    const step = execution.nextStep(definition.name)
    if (!execution.enter(definition.name)) {
      return yield* execution.halt({
        _tag: "Parked",
        error: new DuplicateActivityError({
          executionId: execution.executionId,
          workflow: execution.workflow,
          activity: definition.name
        })
      })
    }
    return yield* Effect.ensuring(
      Effect.flatMap(execution.claim(step), (history) =>
        history?.outcome !== undefined
          ? replayOutcome(execution, definition, step, history.outcome)
          : attemptLoop(execution, definition, effect, step, history)),
      Effect.sync(() => execution.leave(definition.name))
    )
  })

const replayOutcome = <S extends Schema.Top, F extends Schema.Top>(
  execution: Execution,
  definition: Definition<S, F>,
  step: string,
  outcome: Outcome
): Effect.Effect<S["Type"], F["Type"]> => {
  const isSuccess = outcome._tag === "Success"
  const stored = isSuccess ? outcome.value : outcome.error
  return decodeJson(isSuccess ? definition.success : definition.failure, stored).pipe(
    Effect.catch((issue) =>
      execution.halt({
        _tag: "Parked",
        error: new JournalDecodeError({
          executionId: execution.executionId,
          value: JSON.stringify(stored),
          issue: `the recorded ${isSuccess ? "success" : "failure"} of activity "${definition.name}" (step ${step}) ` +
            `does not match the activity's ${isSuccess ? "success" : "failure"} schema: ${issue}`
        })
      })
    ),
    Effect.flatMap((value) => isSuccess ? Effect.succeed(value) : Effect.fail(value as F["Type"]))
  )
}

const attemptLoop = <S extends Schema.Top, F extends Schema.Top, R>(
  execution: Execution,
  definition: Definition<S, F>,
  effect: Effect.Effect<S["Type"], F["Type"], R>,
  step: string,
  history: StepHistory | undefined
): Effect.Effect<S["Type"], F["Type"], R> =>
  Effect.gen(function*() {
    const attempts = history?.attempts ?? []
    let attempt = attempts.at(-1)?.attempt ?? 0
    let failures = countedFailures(attempts)
    let retryAt: number | undefined

    const last = attempts.at(-1)
    if (last !== undefined && last.end === undefined) {
      // The previous run died during this attempt: count it as a failed attempt and schedule the
      // next one from its start, so a restart neither resets the backoff nor skips it.
      failures += 1
      const delay = yield* retryDelay(definition.retry, failures, "crash")
      const defect = "the engine stopped during the attempt (crash or kill)"
      retryAt = delay === undefined ? undefined : last.startedAt + delay
      yield* execution.append([{
        _tag: "ActivityAttemptFailed",
        step,
        activity: definition.name,
        attempt,
        defect,
        retryAt: retryAt ?? null
      }])
      if (retryAt === undefined) return yield* exhausted(execution, definition, attempt, defect)
    } else if (last?.end !== undefined && last.end !== "interrupted" && last.end.retryAt !== null) {
      retryAt = last.end.retryAt
    }

    while (true) {
      if (retryAt !== undefined) yield* sleepUntil(retryAt)
      // A shutdown lets running attempts finish but starts no new one. The engine interrupts the
      // body once the running attempts are done or the grace period ends.
      if (execution.hooks.isShuttingDown()) return yield* Effect.never
      attempt += 1
      const decision = yield* execution.hooks.trackAttempt(
        attemptOnce(execution, definition, effect, step, attempt, failures + 1)
      )
      if (decision._tag === "Succeeded") return decision.value
      if (decision._tag === "Failed") return yield* Effect.fail(decision.error)
      failures += 1
      retryAt = decision.retryAt
    }
  })

type Decision<A, E> =
  | { readonly _tag: "Succeeded"; readonly value: A }
  | { readonly _tag: "Failed"; readonly error: E }
  | { readonly _tag: "Retry"; readonly retryAt: number }

/**
 * Runs one attempt and journals how it ended. The whole of it counts as in flight, so a graceful
 * shutdown waits for the outcome to be journaled, not only for the effect to return.
 */
const attemptOnce = <S extends Schema.Top, F extends Schema.Top, R>(
  execution: Execution,
  definition: Definition<S, F>,
  effect: Effect.Effect<S["Type"], F["Type"], R>,
  step: string,
  attempt: number,
  failures: number
): Effect.Effect<Decision<S["Type"], F["Type"]>, F["Type"], R> =>
  Effect.gen(function*() {
    const base = { step, activity: definition.name, attempt }
    const retry = (defect: string) =>
      Effect.map(
        failAttempt(execution, definition, step, attempt, failures, defect),
        (retryAt): Decision<S["Type"], F["Type"]> => ({ _tag: "Retry", retryAt })
      )
    // The attempt is journaled before it runs, so a crash during it is counted on restart.
    yield* execution.append([{ _tag: "ActivityAttempted", ...base }])
    const exit = yield* runAttempt(execution, definition, effect, step, attempt)

    if (Exit.isSuccess(exit)) {
      const encoded = yield* Effect.result(encodeJson(definition.success, exit.value))
      if (encoded._tag === "Failure") return yield* retry(`its result does not match the success schema: ${encoded.failure}`)
      // The outcome is journaled before the workflow receives it, so a crash here re-runs the
      // activity rather than losing its result.
      yield* execution.append([{
        _tag: "ActivityCompleted",
        ...base,
        outcome: { _tag: "Success", value: encoded.success as never }
      }])
      return { _tag: "Succeeded", value: exit.value }
    }

    const error = Cause.findErrorOption(exit.cause)
    if (error._tag === "None") {
      if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.failCause(exit.cause)
      return yield* retry(Cause.pretty(exit.cause))
    }
    const typed = error.value
    if (definition.retryFailures(typed)) {
      const delay = yield* retryDelay(definition.retry, failures, typed)
      if (delay !== undefined) {
        const retryAt = (yield* Clock.currentTimeMillis) + delay
        yield* execution.append([{ _tag: "ActivityAttemptFailed", ...base, defect: describeError(typed), retryAt }])
        return { _tag: "Retry", retryAt }
      }
    }
    const encoded = yield* Effect.result(encodeJson(definition.failure, typed))
    if (encoded._tag === "Failure") return yield* retry(`its failure does not match the failure schema: ${encoded.failure}`)
    yield* execution.append([{
      _tag: "ActivityCompleted",
      ...base,
      outcome: { _tag: "Failure", error: encoded.success as never }
    }])
    return { _tag: "Failed", error: typed }
  })

/** Runs one attempt with its activity context; records an interruption before passing it on. */
const runAttempt = <S extends Schema.Top, F extends Schema.Top, R>(
  execution: Execution,
  definition: Definition<S, F>,
  effect: Effect.Effect<S["Type"], F["Type"], R>,
  step: string,
  attempt: number
) =>
  execution.hooks.fault({
    _tag: "ActivityAttempt",
    executionId: execution.executionId,
    activity: definition.name,
    attempt
  }).pipe(
    Effect.andThen(effect),
    Effect.provideService(ActivityContext, {
      activity: definition.name,
      persistenceId: `${execution.executionId}/${step}`,
      attempt
    }),
    Effect.withSpan(`Activity.${definition.name}`, {
      attributes: { "waymark.execution_id": execution.executionId, "waymark.step": step, "waymark.attempt": attempt }
    }),
    Effect.onInterrupt(() =>
      execution.append([{ _tag: "ActivityAttemptInterrupted", step, activity: definition.name, attempt }])
    ),
    Effect.exit
  )

/**
 * Journals a failed attempt and returns when the next one may start; parks the execution when the
 * retry schedule is exhausted.
 */
const failAttempt = <S extends Schema.Top, F extends Schema.Top>(
  execution: Execution,
  definition: Definition<S, F>,
  step: string,
  attempt: number,
  failures: number,
  defect: string
): Effect.Effect<number> =>
  Effect.gen(function*() {
    yield* Effect.logWarning("Activity attempt failed").pipe(
      Effect.annotateLogs({ activity: definition.name, attempt, defect })
    )
    const delay = yield* retryDelay(definition.retry, failures, defect)
    const now = yield* Clock.currentTimeMillis
    const retryAt = delay === undefined ? null : now + delay
    yield* execution.append([{
      _tag: "ActivityAttemptFailed",
      step,
      activity: definition.name,
      attempt,
      defect,
      retryAt
    }])
    if (retryAt === null) return yield* exhausted(execution, definition, attempt, defect)
    return retryAt
  })

const exhausted = <S extends Schema.Top, F extends Schema.Top>(
  execution: Execution,
  definition: Definition<S, F>,
  attempt: number,
  defect: string
) =>
  execution.halt({
    _tag: "Parked",
    error: new ActivityRetriesExhaustedError({
      executionId: execution.executionId,
      activity: definition.name,
      attempt,
      defect
    })
  })

/**
 * Counts the failures that count against the retry schedule: failed or crashed attempts since the
 * last exhausted round, because an operator's `resume` starts a new round. Interrupted attempts do
 * not count.
 */
const countedFailures = (attempts: ReadonlyArray<AttemptHistory>): number => {
  let count = 0
  for (const attempt of attempts) {
    if (attempt.end === "interrupted" || attempt.end === undefined) continue
    count = attempt.end.retryAt === null ? 0 : count + 1
  }
  return count
}

/**
 * The delay before retry number `failures` (1-based), in milliseconds, or `undefined` when the
 * schedule ends first. The schedule is stepped from its start each time, so the delay depends only
 * on the journaled count.
 */
const retryDelay = (
  schedule: Schedule.Schedule<unknown, unknown>,
  failures: number,
  input: unknown
): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    const step = yield* Schedule.toStep(schedule)
    const now = yield* Clock.currentTimeMillis
    let delay: Duration.Duration | undefined
    for (let index = 0; index < failures; index++) {
      const result = yield* Effect.exit(step(now, input))
      if (Exit.isFailure(result)) return undefined
      delay = result.value[1]
    }
    if (delay === undefined) return undefined
    // An infinite delay never retries: it is the same as an exhausted schedule, and it could not be
    // journaled as a time anyway (JSON has no Infinity).
    const millis = Duration.toMillis(delay)
    return Number.isFinite(millis) ? Math.max(0, millis) : undefined
  })

const sleepUntil = (at: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void)

const describeError = (error: unknown): string => {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  try {
    return JSON.stringify(error)
  } catch {
    return String(error)
  }
}
