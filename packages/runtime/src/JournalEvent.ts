/**
 * The events of an execution's log, and their encoding into journal entries.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { JournalEntry, NewEntry } from "./DurableExecutionJournal"
import { JournalDecodeError } from "./WorkflowError"

/**
 * An encoded outcome: the success value or the typed failure, each as JSON through its schema.
 * Defects are never recorded as outcomes: they are retried, or park the execution.
 *
 * @since 0.1.0
 * @category models
 */
export const Outcome = Schema.Union([
  Schema.TaggedStruct("Success", { value: Schema.Json }),
  Schema.TaggedStruct("Failure", { error: Schema.Json })
])

/**
 * @since 0.1.0
 * @category models
 */
export type Outcome = typeof Outcome.Type

/**
 * The execution was created from a request.
 *
 * @since 0.1.0
 * @category events
 */
export const Started = Schema.TaggedStruct("Started", {
  workflow: Schema.String,
  payload: Schema.Json
})

/**
 * An attempt of an activity is about to run. Written before the activity runs, so an attempt that
 * a crash cut short is still counted.
 *
 * @since 0.1.0
 * @category events
 */
export const ActivityAttempted = Schema.TaggedStruct("ActivityAttempted", {
  step: Schema.String,
  activity: Schema.String,
  attempt: Schema.Number,
  /**
   * The step that the same fiber of the body consumed before this one, or `null` when this is the
   * fiber's first step. Replay checks it, so that steps of one name taken by different branches
   * in another order are caught rather than swapped.
   */
  after: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * An attempt died with a defect (or a typed failure the activity retries). `retryAt` is when the
 * next attempt may start, or `null` when the retry schedule is exhausted.
 *
 * @since 0.1.0
 * @category events
 */
export const ActivityAttemptFailed = Schema.TaggedStruct("ActivityAttemptFailed", {
  step: Schema.String,
  activity: Schema.String,
  attempt: Schema.Number,
  defect: Schema.String,
  retryAt: Schema.NullOr(Schema.Number)
})

/**
 * A graceful shutdown of the engine interrupted the attempt. Such attempts do not count against the
 * retry schedule, so a deploy does not use up an activity's retries.
 *
 * @since 0.1.0
 * @category events
 */
export const ActivityAttemptInterrupted = Schema.TaggedStruct("ActivityAttemptInterrupted", {
  step: Schema.String,
  activity: Schema.String,
  attempt: Schema.Number
})

/**
 * The activity's outcome, returned on every replay instead of running it again.
 *
 * @since 0.1.0
 * @category events
 */
export const ActivityCompleted = Schema.TaggedStruct("ActivityCompleted", {
  step: Schema.String,
  activity: Schema.String,
  attempt: Schema.Number,
  outcome: Outcome
})

/**
 * The body called `Workflow.yieldExecution`.
 *
 * @since 0.1.0
 * @category events
 */
export const Paused = Schema.TaggedStruct("Paused", {
  step: Schema.String,
  reason: Schema.String,
  /** The step the same fiber consumed before, as in `ActivityAttempted`. */
  after: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * An operator resumed a paused or parked execution.
 *
 * @since 0.1.0
 * @category events
 */
export const Resumed = Schema.TaggedStruct("Resumed", {
  from: Schema.String
})

/**
 * The workflow returned; the outcome is encoded with the request's success and failure schemas.
 *
 * @since 0.1.0
 * @category events
 */
export const Completed = Schema.TaggedStruct("Completed", {
  outcome: Outcome
})

/**
 * Any event of the log.
 *
 * @since 0.1.0
 * @category events
 */
export const JournalEvent = Schema.Union([
  Started,
  ActivityAttempted,
  ActivityAttemptFailed,
  ActivityAttemptInterrupted,
  ActivityCompleted,
  Paused,
  Resumed,
  Completed
])

/**
 * @since 0.1.0
 * @category events
 */
export type JournalEvent = typeof JournalEvent.Type

/**
 * A decoded entry: the event with its place in the log.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedEvent {
  readonly sequence: number
  readonly recordedAt: number
  readonly event: JournalEvent
}

/**
 * Encodes an event into a journal entry.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toEntry = (event: JournalEvent, recordedAt: number): NewEntry => ({
  kind: event._tag,
  data: JSON.stringify(event),
  recordedAt
})

const decodeEvent = Schema.decodeUnknownResult(JournalEvent)

/**
 * Decodes a journal entry. A row with corrupt JSON, an unknown kind, or a body that does not match
 * its kind fails with a `JournalDecodeError` naming the execution, the sequence and the stored text.
 *
 * @since 0.1.0
 * @category encoding
 */
export const fromEntry = (entry: JournalEntry): Effect.Effect<RecordedEvent, JournalDecodeError> =>
  Effect.suspend(() => {
    const fail = (issue: string) =>
      Effect.fail(
        new JournalDecodeError({
          executionId: entry.executionId,
          sequence: entry.sequence,
          value: entry.data,
          issue
        })
      )
    let parsed: unknown
    try {
      parsed = JSON.parse(entry.data)
    } catch (error) {
      return fail(`the event is not valid JSON (${error instanceof Error ? error.message : String(error)})`)
    }
    const decoded = decodeEvent(parsed)
    if (decoded._tag === "Failure") {
      return fail(`the event does not match any known event kind: ${decoded.failure.message}`)
    }
    if (decoded.success._tag !== entry.kind) {
      return fail(`the row's kind is "${entry.kind}" but its body is a "${decoded.success._tag}" event`)
    }
    return Effect.succeed({ sequence: entry.sequence, recordedAt: entry.recordedAt, event: decoded.success })
  })
