/**
 * Activities: the units of work inside a workflow that may touch the outside world.
 *
 * An activity has a name (unique among concurrent calls in one execution), a success schema and a
 * failure schema, so its outcome can be journaled. A recorded outcome is returned on replay without
 * running the activity again. An attempt that a crash cut short runs again, so activities must be
 * idempotent: `Activity.persistenceId` is a key that stays the same on every attempt.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type { ActivityContext } from "./ActivityContext"
import { runActivity } from "./internal/runActivity"
import type { WorkflowContext } from "./WorkflowContext"

export {
  /**
   * @since 0.1.0
   * @category services
   */
  ActivityContext,
  /**
   * @since 0.1.0
   * @category accessors
   */
  currentAttempt,
  /**
   * @since 0.1.0
   * @category accessors
   */
  persistenceId
} from "./ActivityContext"

/**
 * The retry schedule used when an activity sets none: exponential backoff from 200 ms, doubling,
 * each delay capped at 30 seconds, at most 10 retries.
 *
 * @since 0.1.0
 * @category retries
 */
export const defaultRetrySchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("200 millis").pipe(
  Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.seconds(30)))),
  Schedule.upTo({ times: 10 })
) as Schedule.Schedule<unknown, unknown>

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<E> {
  /**
   * The backoff between attempts after a defect or a crash. Its input is a one-line text of the
   * failure (`"Error: connection refused"`), as journaled, because a restart steps the schedule
   * again from the journal. The attempt count and the time of the next attempt are journaled, so a
   * restart neither resets nor skips it. When it ends, the execution is parked; `resume` starts a
   * new round. Only the schedule's delays are used; its outputs are ignored. Default:
   * `defaultRetrySchedule`.
   */
  readonly retry?: Schedule.Schedule<unknown, unknown> | undefined
  /**
   * Retry typed failures too (all, or those the predicate selects). Off by default: a typed
   * failure is recorded and handed to the workflow. A retried failure that outlasts the schedule is
   * recorded and handed to the workflow as usual.
   */
  readonly retryFailures?: boolean | ((error: E) => boolean) | undefined
}

/**
 * An activity's definition.
 *
 * @since 0.1.0
 * @category models
 */
export interface Definition<S extends Schema.Top, F extends Schema.Top> {
  readonly name: string
  readonly success: S
  readonly failure: F
  readonly retry: Schedule.Schedule<unknown, unknown>
  readonly retryFailures: (error: F["Type"]) => boolean
}

/**
 * Turns an effect into an activity of a workflow.
 *
 * The attempt is journaled before the effect runs, and the outcome before anything outside the
 * workflow body can depend on it. The outcome is written with the run's next write (the next
 * activity's start, a pause, the workflow's completion), or at once when other attempts of the
 * execution are running.
 * On replay the recorded outcome is returned and the effect does not run. Defects are retried with `options.retry`; typed
 * failures are recorded and returned unless `options.retryFailures` selects them.
 *
 * Calls of one name are distinguished by call order: the second sequential call of `"poll"` is a
 * step of its own, with a persistence id of its own. Two calls of one name that run at the same
 * time (in parallel branches) are rejected with a `DuplicateActivityError`, because their order is
 * not deterministic. Calls of one name from parallel branches that do not overlap are journaled
 * with the step before them in their branch; a replay that takes them in another order parks the
 * execution with a `NonDeterminismError` rather than swapping their results. Give calls in
 * parallel branches distinct names (for example, with the item id in the name).
 *
 * The result handed to the workflow is the value decoded from its journaled form, on the first run
 * as on replay. A result or typed failure that its schema cannot encode parks the execution.
 *
 * @example
 * ```ts
 * const charge = (cardNumber: string, amount: number) =>
 *   Activity.persistenceId.pipe(
 *     Effect.flatMap((key) => gateway.charge({ cardNumber, amount, idempotencyKey: key })),
 *     Activity.make("charge-card", Schema.Void, PaymentDeclined)
 *   )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <S extends Schema.Top, F extends Schema.Top = Schema.Never>(
  name: string,
  success: S,
  failure?: F,
  options?: Options<F["Type"]>
) => {
  if (name.length === 0 || name.startsWith("$")) {
    throw new TypeError(
      `Invalid activity name ${JSON.stringify(name)}: names must be non-empty and must not start with "$", ` +
        `which the runtime reserves for its own steps.`
    )
  }
  const retryFailures = options?.retryFailures
  const definition: Definition<S, F> = {
    name,
    success,
    failure: failure ?? (Schema.Never as unknown as F),
    retry: options?.retry ?? defaultRetrySchedule,
    retryFailures: typeof retryFailures === "function" ? retryFailures : () => retryFailures === true
  }
  return <R>(
    effect: Effect.Effect<S["Type"], F["Type"], R>
  ): Effect.Effect<S["Type"], F["Type"], Exclude<R, ActivityContext> | WorkflowContext> =>
    runActivity(definition, effect as Effect.Effect<S["Type"], F["Type"], Exclude<R, ActivityContext>>)
}
