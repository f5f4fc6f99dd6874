/**
 * The steps an execution's log records, indexed for replay.
 *
 * A step is one activity call (`name#occurrence`) or one `Workflow.yieldExecution` call
 * (`$yield#occurrence`). Replay consumes steps as the body requests them. A step requested while
 * earlier recorded steps stay unconsumed is a divergence.
 */
import type { Outcome, RecordedEvent } from "../JournalEvent"

/** One attempt of an activity, and how it ended if the log records that. */
export interface AttemptHistory {
  readonly attempt: number
  readonly startedAt: number
  /** `retryAt` is `null` when the schedule was exhausted; `interrupted` marks a graceful shutdown. */
  end:
    | { readonly retryAt: number | null; readonly recordedAt: number; readonly defect: string }
    | "interrupted"
    | undefined
}

export interface StepHistory {
  readonly step: string
  readonly kind: "activity" | "yield"
  readonly name: string
  readonly firstSequence: number
  /** The step consumed before this one by the same fiber; `null` for a fiber's first step. */
  after: string | null | undefined
  readonly attempts: Array<AttemptHistory>
  outcome: Outcome | undefined
  resumed: boolean
}

export interface ReplayIndex {
  readonly workflow: string
  readonly payload: unknown
  readonly steps: ReadonlyMap<string, StepHistory>
  readonly outcome: Outcome | undefined
  readonly lastSequence: number
}

/** Builds the index from a decoded log (whose first event is `Started`). */
export const build = (events: ReadonlyArray<RecordedEvent>): ReplayIndex | string => {
  const first = events[0]?.event
  if (first?._tag !== "Started") return "the log does not begin with a Started event"
  const steps = new Map<string, StepHistory>()
  let outcome: Outcome | undefined
  let pausedStep: StepHistory | undefined

  const stepOf = (
    step: string,
    kind: StepHistory["kind"],
    name: string,
    sequence: number,
    after?: string | null | undefined
  ) => {
    let history = steps.get(step)
    if (history === undefined) {
      history = { step, kind, name, firstSequence: sequence, after, attempts: [], outcome: undefined, resumed: false }
      steps.set(step, history)
    }
    return history
  }

  for (const { event, recordedAt, sequence } of events) {
    switch (event._tag) {
      case "ActivityAttempted": {
        stepOf(event.step, "activity", event.activity, sequence, event.after).attempts.push({
          attempt: event.attempt,
          startedAt: recordedAt,
          end: undefined
        })
        break
      }
      case "ActivityAttemptFailed": {
        const attempt = stepOf(event.step, "activity", event.activity, sequence).attempts.find(
          (candidate) => candidate.attempt === event.attempt
        )
        if (attempt !== undefined) attempt.end = { retryAt: event.retryAt, recordedAt, defect: event.defect }
        break
      }
      case "ActivityAttemptInterrupted": {
        const attempt = stepOf(event.step, "activity", event.activity, sequence).attempts.find(
          (candidate) => candidate.attempt === event.attempt
        )
        if (attempt !== undefined) attempt.end = "interrupted"
        break
      }
      case "ActivityCompleted": {
        stepOf(event.step, "activity", event.activity, sequence).outcome = event.outcome
        break
      }
      case "Paused": {
        pausedStep = stepOf(event.step, "yield", "yieldExecution", sequence, event.after)
        break
      }
      case "Resumed": {
        if (pausedStep !== undefined) pausedStep.resumed = true
        pausedStep = undefined
        break
      }
      case "Completed": {
        outcome = event.outcome
        break
      }
      case "Started":
        break
    }
  }
  return {
    workflow: first.workflow,
    payload: first.payload,
    steps,
    outcome,
    lastSequence: events.at(-1)?.sequence ?? 0
  }
}

/** Describes a step for messages: `activity "charge-card" (call 1)`. */
export const describeStep = (step: string | null): string => {
  if (step === null) return "the start of its branch"
  const at = step.lastIndexOf("#")
  const name = step.slice(0, at)
  const occurrence = step.slice(at + 1)
  return name === YIELD_STEP ? `Workflow.yieldExecution (call ${occurrence})` : `activity "${name}" (call ${occurrence})`
}

/** The step name of `Workflow.yieldExecution`; activity names cannot start with `$`. */
export const YIELD_STEP = "$yield"
