/**
 * The retry state of an activity, derived from its journaled attempts, and the delays of its
 * retry schedule.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import type { AttemptHistory } from "./ReplayIndex"

/** A failure that counts against the retry schedule: when it happened, and what it was. */
export interface CountedFailure {
  readonly at: number
  readonly input: string
}

/** The text the schedule receives for an attempt that a crash cut short. */
export const CRASH_INPUT = "the engine stopped during the attempt (crash or kill)"

/**
 * Lists the failures that count against the retry schedule: failed or crashed attempts since the
 * last exhausted round, because an operator's `resume` starts a new round. Attempts interrupted by
 * a shutdown or by the workflow itself do not count.
 */
export const countedFailures = (attempts: ReadonlyArray<AttemptHistory>): Array<CountedFailure> => {
  let failures: Array<CountedFailure> = []
  for (const attempt of attempts) {
    if (attempt.end === "interrupted" || attempt.end === undefined) continue
    if (attempt.end.retryAt === null) {
      failures = []
      continue
    }
    failures.push({ at: attempt.end.recordedAt, input: attempt.end.defect })
  }
  return failures
}

/**
 * Returns the delay in milliseconds before the next attempt after `failures`, or `undefined` when
 * the schedule ends first. The schedule is stepped from its start, once per failure, with the time
 * each failure was journaled, so a restart neither resets nor skips it, and schedules limited by
 * elapsed time (`Schedule.upTo({ duration })`) end when they should. An infinite delay counts as an
 * ended schedule: it could not be journaled as a time anyway (JSON has no Infinity).
 */
export const retryDelay = (
  schedule: Schedule.Schedule<unknown, unknown>,
  failures: ReadonlyArray<CountedFailure>
): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    const step = yield* Schedule.toStep(schedule)
    let delay: Duration.Duration | undefined
    for (const failure of failures) {
      const result = yield* Effect.exit(step(failure.at, failure.input))
      if (Exit.isFailure(result)) return undefined
      delay = result.value[1]
    }
    if (delay === undefined) return undefined
    const millis = Duration.toMillis(delay)
    return Number.isFinite(millis) ? Math.max(0, Math.round(millis)) : undefined
  })
