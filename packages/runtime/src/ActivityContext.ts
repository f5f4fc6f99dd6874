/**
 * The context of one activity attempt: its persistence id and attempt number.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface ActivityContextShape {
  readonly activity: string
  /** `<execution id>/<activity name>#<call number>`: the same on every attempt and after restarts. */
  readonly persistenceId: string
  /** 1 for the first attempt; counts every attempt, including ones a crash cut short. */
  readonly attempt: number
}

/**
 * The context of one activity attempt, provided to the activity's effect.
 *
 * @since 0.1.0
 * @category services
 */
export class ActivityContext extends Context.Service<ActivityContext, ActivityContextShape>()(
  "@waymark/runtime/ActivityContext"
) {}

/**
 * A key that identifies this activity call in this execution and stays the same on every attempt
 * and across restarts. Pass it to outside systems as an idempotency key.
 *
 * @since 0.1.0
 * @category accessors
 */
export const persistenceId: Effect.Effect<string, never, ActivityContext> = Effect.map(
  ActivityContext,
  (context) => context.persistenceId
)

/**
 * The number of the running attempt, starting at 1.
 *
 * @since 0.1.0
 * @category accessors
 */
export const currentAttempt: Effect.Effect<number, never, ActivityContext> = Effect.map(
  ActivityContext,
  (context) => context.attempt
)

