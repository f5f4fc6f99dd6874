/**
 * The attempt loop of one activity call: replay a recorded outcome, or run attempts until one
 * succeeds or fails for good, journaling each attempt before it runs and each outcome before
 * anything outside the body can depend on it.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Schema from "effect/Schema"
import type { Definition } from "../Activity"
import { ActivityContext } from "../ActivityContext"
import type { Outcome } from "../JournalEvent"
import * as WorkflowContext from "../WorkflowContext"
import {
  ActivityRetriesExhaustedError,
  DuplicateActivityError,
  InvalidActivityResultError,
  JournalDecodeError
} from "../WorkflowError"
import { decodeJson, encodeJson } from "./codec"
import type { Execution } from "./Execution"
import type { StepHistory } from "./ReplayIndex"
import { CRASH_INPUT, type CountedFailure, countedFailures, retryDelay } from "./retrySchedule"

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
      Effect.flatMap(execution.claim(step), ({ after, history }) =>
        history?.outcome !== undefined
          ? replayOutcome(execution, definition, step, history.outcome)
          : attemptLoop({ execution, definition, effect, step, after }, history)),
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

/** The call an attempt belongs to: its execution, definition, effect and step. */
interface Call<S extends Schema.Top, F extends Schema.Top, R> {
  readonly execution: Execution
  readonly definition: Definition<S, F>
  readonly effect: Effect.Effect<S["Type"], F["Type"], R>
  readonly step: string
  /** The step the calling fiber consumed before, journaled with the first attempt. */
  readonly after: string | null
}

const attemptLoop = <S extends Schema.Top, F extends Schema.Top, R>(
  call: Call<S, F, R>,
  history: StepHistory | undefined
): Effect.Effect<S["Type"], F["Type"], R> =>
  Effect.gen(function*() {
    const { execution, definition, step } = call
    const attempts = history?.attempts ?? []
    const failures = countedFailures(attempts)
    let attempt = attempts.at(-1)?.attempt ?? 0
    let retryAt: number | undefined

    const last = attempts.at(-1)
    if (last !== undefined && last.end === undefined) {
      // The previous run died during this attempt: count it as a failed attempt at its start, so a
      // restart neither resets the backoff nor skips it.
      failures.push({ at: last.startedAt, input: CRASH_INPUT })
      const delay = yield* retryDelay(definition.retry, failures)
      retryAt = delay === undefined ? undefined : last.startedAt + delay
      yield* execution.append([{
        _tag: "ActivityAttemptFailed",
        step,
        activity: definition.name,
        attempt,
        defect: CRASH_INPUT,
        retryAt: retryAt ?? null
      }])
      if (retryAt === undefined) return yield* exhausted(execution, definition, attempt, CRASH_INPUT)
    } else if (last?.end !== undefined && last.end !== "interrupted" && last.end.retryAt !== null) {
      retryAt = last.end.retryAt
    }

    while (true) {
      if (retryAt !== undefined) yield* sleepUntil(retryAt)
      // A shutdown lets running attempts finish but starts no new one. The engine interrupts the
      // body once the running attempts are done or the grace period ends.
      if (execution.hooks.isShuttingDown()) return yield* Effect.never
      attempt += 1
      const decision = yield* execution.hooks.trackAttempt(attemptOnce(call, attempt, failures))
      if (decision._tag === "Succeeded") return decision.value
      if (decision._tag === "Failed") return yield* Effect.fail(decision.error)
      retryAt = decision.retryAt
    }
  })

type Decision<A, E> =
  | { readonly _tag: "Succeeded"; readonly value: A }
  | { readonly _tag: "Failed"; readonly error: E }
  | { readonly _tag: "Retry"; readonly retryAt: number }

/**
 * Runs one attempt and journals how it ended. The whole of it counts as in flight, so a graceful
 * shutdown waits for the outcome to be recorded, not only for the effect to return. A failure
 * that counts against the schedule is added to `failures`.
 */
const attemptOnce = <S extends Schema.Top, F extends Schema.Top, R>(
  call: Call<S, F, R>,
  attempt: number,
  failures: Array<CountedFailure>
): Effect.Effect<Decision<S["Type"], F["Type"]>, F["Type"], R> =>
  Effect.gen(function*() {
    const { execution, definition, step } = call
    const base = { step, activity: definition.name, attempt }

    /** Counts a failure and returns when the next attempt may start, or `null` when none may. */
    const nextAttemptAt = (defect: string) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        failures.push({ at: now, input: defect })
        const delay = yield* retryDelay(definition.retry, failures)
        return delay === undefined ? null : now + delay
      })

    /** Journals a failed attempt and returns the retry, or parks when the schedule is exhausted. */
    const retry = (defect: string, retryAt: number | null) =>
      Effect.gen(function*() {
        yield* execution.append([{ _tag: "ActivityAttemptFailed", ...base, defect, retryAt }])
        if (retryAt === null) return yield* exhausted(execution, definition, attempt, defect)
        return { _tag: "Retry", retryAt } as Decision<S["Type"], F["Type"]>
      })

    // The attempt is journaled before it runs, so a crash during it is counted on restart. Only
    // the first attempt of a step records the step before it, which replay checks.
    yield* execution.append([{ _tag: "ActivityAttempted", ...base, ...(attempt === 1 ? { after: call.after } : {}) }])
    execution.attemptStarted()
    const exit = yield* Effect.ensuring(runAttempt(call, attempt), Effect.sync(() => execution.attemptEnded()))

    if (Exit.isSuccess(exit)) {
      const value = yield* roundTrip(call, attempt, definition.success, exit.value, "result")
      // The outcome is journaled before anything outside the body can depend on it, so a crash
      // re-runs the activity rather than losing its result.
      yield* execution.recordOutcome({ _tag: "ActivityCompleted", ...base, outcome: { _tag: "Success", value: value.encoded } })
      return { _tag: "Succeeded", value: value.decoded }
    }

    const error = Cause.findErrorOption(exit.cause)
    if (error._tag === "None") {
      if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.failCause(exit.cause)
      yield* Effect.logWarning("Activity attempt failed", exit.cause).pipe(
        Effect.annotateLogs({ activity: definition.name, attempt })
      )
      const defect = describeDefect(Cause.squash(exit.cause))
      return yield* retry(defect, yield* nextAttemptAt(defect))
    }
    if (definition.retryFailures(error.value)) {
      const defect = describeDefect(error.value)
      const retryAt = yield* nextAttemptAt(defect)
      // A typed failure that outlasts the schedule is recorded and returned as usual.
      if (retryAt !== null) return yield* retry(defect, retryAt)
    }
    const failure = yield* roundTrip(call, attempt, definition.failure, error.value, "failure")
    yield* execution.recordOutcome({ _tag: "ActivityCompleted", ...base, outcome: { _tag: "Failure", error: failure.encoded } })
    return { _tag: "Failed", error: failure.decoded }
  })

/**
 * Encodes an outcome for the journal and decodes it back, so the first run hands the body exactly
 * the value a replay will (a struct without its extra fields, `0` for `-0`, ...). A value that does
 * not fit its schema parks the execution at once: retrying would repeat the side effect with the
 * same result.
 */
const roundTrip = <S extends Schema.Top, F extends Schema.Top, R>(
  call: Call<S, F, R>,
  attempt: number,
  schema: Schema.Top,
  value: unknown,
  kind: "result" | "failure"
): Effect.Effect<{ readonly encoded: never; readonly decoded: any }> =>
  Effect.gen(function*() {
    const encoded = yield* encodeJson(schema, value)
    // Through JSON text, as the journal stores it, so `-0` and the like come back as replay decodes them.
    const decoded = yield* decodeJson(schema, JSON.parse(JSON.stringify(encoded) ?? "null"))
    return { encoded: encoded as never, decoded }
  }).pipe(Effect.catch((issue) =>
    Effect.gen(function*() {
      const { execution, definition, step } = call
      const error = new InvalidActivityResultError({
        executionId: execution.executionId,
        activity: definition.name,
        attempt,
        kind,
        issue
      })
      yield* execution.append([{
        _tag: "ActivityAttemptFailed",
        step,
        activity: definition.name,
        attempt,
        defect: error.message,
        retryAt: null
      }])
      return yield* execution.halt({ _tag: "Parked", error })
    })
  ))

/** Runs one attempt with its activity context; records an interruption before passing it on. */
const runAttempt = <S extends Schema.Top, F extends Schema.Top, R>(call: Call<S, F, R>, attempt: number) => {
  const { execution, definition, step } = call
  return execution.hooks.fault({
    _tag: "ActivityAttempt",
    executionId: execution.executionId,
    activity: definition.name,
    attempt
  }).pipe(
    Effect.andThen(call.effect),
    Effect.provideService(ActivityContext, {
      activity: definition.name,
      persistenceId: `${execution.executionId}/${step}`,
      attempt
    }),
    // Spans of the engine's own boundaries capture no stack trace, which would point into the
    // engine and cost time on every attempt.
    Effect.withSpan(`Activity.${definition.name}`, {
      attributes: { "waymark.execution_id": execution.executionId, "waymark.step": step, "waymark.attempt": attempt }
    }, { captureStackTrace: false }),
    // Best effort: when the interruption comes from a lost lease, the write is rejected, and a
    // finalizer must not wait on the run it belongs to.
    Effect.onInterrupt(() =>
      Effect.ignore(execution.tryAppend([{ _tag: "ActivityAttemptInterrupted", step, activity: definition.name, attempt }]))
    ),
    Effect.exit
  )
}

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

const sleepUntil = (at: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void)

/** Describes a defect or error in one line, without its stack: it is journaled and shown to operators. */
const describeDefect = (defect: unknown): string => {
  if (defect instanceof Error) return `${defect.name}: ${defect.message}`
  if (typeof defect === "string") return defect
  try {
    return JSON.stringify(defect) ?? String(defect)
  } catch {
    return String(defect)
  }
}
