/**
 * Named fault-injection points in the engine, for crash and race tests.
 *
 * The engine calls the current handler at each point; the default does nothing. A test provides a
 * handler that kills the process, delays or fails at a chosen point, so that a crash lands exactly
 * where the test chooses.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { JournalEvent } from "./JournalEvent"

/**
 * A place in the engine where a fault can be injected.
 *
 * - `BeforeAppend` / `AfterAppend`: around each durable write of events of an execution.
 * - `ActivityAttempt`: inside an activity's attempt, after its start was recorded and before its
 *   effect runs.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultPoint =
  | {
    readonly _tag: "BeforeAppend" | "AfterAppend"
    readonly executionId: string
    readonly events: ReadonlyArray<JournalEvent>
  }
  | {
    readonly _tag: "ActivityAttempt"
    readonly executionId: string
    readonly activity: string
    readonly attempt: number
  }

/**
 * The handler called at every fault point.
 *
 * @since 0.1.0
 * @category services
 */
export const FaultInjection = Context.Reference<(point: FaultPoint) => Effect.Effect<void>>(
  "@waymark/runtime/FaultInjection",
  { defaultValue: () => () => Effect.void }
)

/**
 * Names a fault point as `"<point>:<event kind or activity>:<activity>"`, for example
 * `"AfterAppend:ActivityCompleted:charge-card"` or `"ActivityAttempt:charge-card"`, so that tests and
 * child processes can select one by a string.
 *
 * @since 0.1.0
 * @category utils
 */
export const names = (point: FaultPoint): ReadonlyArray<string> => {
  if (point._tag === "ActivityAttempt") {
    return [`ActivityAttempt:${point.activity}`, `ActivityAttempt:${point.activity}:${point.attempt}`]
  }
  return point.events.flatMap((event) => {
    const base = `${point._tag}:${event._tag}`
    return "activity" in event ? [base, `${base}:${event.activity}`] : [base]
  })
}
