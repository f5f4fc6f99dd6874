/**
 * The state of one run of one execution: its replay index, the steps consumed so far, the next
 * sequence number, and the signal that stops the run.
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"
import type { Journal, StatusUpdate } from "../DurableExecutionJournal"
import { type FaultPoint } from "../FaultInjection"
import { type JournalEvent, toEntry } from "../JournalEvent"
import {
  type ActivityRetriesExhaustedError,
  type DuplicateActivityError,
  type JournalConflictError,
  type JournalDecodeError,
  type JournalError,
  NonDeterminismError,
  type WorkflowDefectError
} from "../WorkflowError"
import { describeStep, type ReplayIndex, type StepHistory } from "./ReplayIndex"

/** An error that stops the execution until an operator resumes it. */
export type ParkReason =
  | NonDeterminismError
  | DuplicateActivityError
  | ActivityRetriesExhaustedError
  | JournalDecodeError
  | WorkflowDefectError

/** The reason a run stopped before its body returned. */
export type StopReason =
  | { readonly _tag: "Paused" }
  | { readonly _tag: "Parked"; readonly error: ParkReason }
  | { readonly _tag: "JournalFailed"; readonly error: JournalError | JournalConflictError }

/** The engine services a run uses. */
export interface EngineHooks {
  readonly journal: Journal
  readonly isShuttingDown: () => boolean
  readonly fault: (point: FaultPoint) => Effect.Effect<void>
  /** Counts attempts in flight, so a graceful shutdown can wait for them. */
  readonly trackAttempt: <A, E, R>(attempt: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

// Replay of recorded steps needs no I/O, so other branches reach their recorded steps within a few
// scheduler rounds. A new step waits this many rounds without progress before it is called a
// divergence.
const QUIET_ROUNDS = 25
const MAX_ROUNDS = 2_000

export class Execution {
  private readonly consumed = new Set<string>()
  private readonly occurrences = new Map<string, number>()
  private readonly running = new Set<string>()
  private readonly lock = Semaphore.makeUnsafe(1)

  constructor(
    readonly executionId: string,
    readonly workflow: string,
    readonly index: ReplayIndex,
    readonly hooks: EngineHooks,
    readonly stop: Deferred.Deferred<StopReason>,
    private nextSequence: number
  ) {}

  /** Returns the step id of the next call of `name`: `name#1`, `name#2`, ... in call order. */
  nextStep(name: string): string {
    const occurrence = (this.occurrences.get(name) ?? 0) + 1
    this.occurrences.set(name, occurrence)
    return `${name}#${occurrence}`
  }

  /** Marks `name` as running; `false` when another call of `name` is running already. */
  enter(name: string): boolean {
    if (this.running.has(name)) return false
    this.running.add(name)
    return true
  }

  leave(name: string): void {
    this.running.delete(name)
  }

  /**
   * Looks up a step the body requests and marks it consumed. For a step the journal does not have,
   * it first lets the other branches replay. If recorded steps are still unconsumed then, the body
   * took another path than the one recorded, and the run halts with a `NonDeterminismError`.
   */
  claim(step: string): Effect.Effect<StepHistory | undefined> {
    const self = this
    return Effect.gen(function*() {
      const recorded = self.index.steps.get(step)
      if (recorded !== undefined) {
        self.consumed.add(step)
        return recorded
      }
      let pending = self.pendingCount()
      let quiet = 0
      for (let round = 0; round < MAX_ROUNDS && pending > 0 && quiet < QUIET_ROUNDS; round++) {
        yield* Effect.yieldNow
        const now = self.pendingCount()
        quiet = now === pending ? quiet + 1 : 0
        pending = now
      }
      const diverged = self.firstPending()
      if (diverged !== undefined) {
        return yield* self.halt({
          _tag: "Parked",
          error: new NonDeterminismError({
            executionId: self.executionId,
            workflow: self.workflow,
            requested: describeStep(step),
            recorded: describeStep(diverged.step)
          })
        })
      }
      return undefined
    })
  }

  /**
   * Returns the first recorded step (in log order) that replay has not reached and that matters: it
   * has an outcome, or its last attempt failed or was cut short by a crash. A step whose last
   * attempt was interrupted is not pending, because the original run abandoned it too.
   */
  firstPending(): StepHistory | undefined {
    let first: StepHistory | undefined
    for (const history of this.index.steps.values()) {
      if (this.consumed.has(history.step) || !isPending(history)) continue
      if (first === undefined || history.firstSequence < first.firstSequence) first = history
    }
    return first
  }

  /**
   * Returns the first recorded step with an outcome that the body never requested. It is checked
   * when the body returns, and finds a step removed from the code.
   */
  firstUnconsumedOutcome(): StepHistory | undefined {
    let first: StepHistory | undefined
    for (const history of this.index.steps.values()) {
      if (this.consumed.has(history.step) || history.outcome === undefined) continue
      if (first === undefined || history.firstSequence < first.firstSequence) first = history
    }
    return first
  }

  private pendingCount(): number {
    let count = 0
    for (const history of this.index.steps.values()) {
      if (!this.consumed.has(history.step) && isPending(history)) count++
    }
    return count
  }

  /**
   * Appends events durably, in call order, and applies `status` in the same transaction. Appends of
   * one execution are serialized, so parallel branches get consecutive sequence numbers.
   */
  tryAppend(
    events: ReadonlyArray<JournalEvent>,
    status?: StatusUpdate
  ): Effect.Effect<void, JournalError | JournalConflictError> {
    const self = this
    return this.lock.withPermit(Effect.gen(function*() {
      yield* self.hooks.fault({ _tag: "BeforeAppend", executionId: self.executionId, events })
      const now = yield* Clock.currentTimeMillis
      yield* self.hooks.journal.append({
        executionId: self.executionId,
        expectedSequence: self.nextSequence,
        entries: events.map((event) => toEntry(event, now)),
        status
      })
      self.nextSequence += events.length
      yield* self.hooks.fault({ _tag: "AfterAppend", executionId: self.executionId, events })
    }))
  }

  /**
   * Appends like `tryAppend`, from inside the body. When the journal fails the run halts, because
   * nothing that follows may act as if the write had happened.
   */
  append(events: ReadonlyArray<JournalEvent>, status?: StatusUpdate): Effect.Effect<void> {
    return Effect.catch(this.tryAppend(events, status), (error) => this.halt({ _tag: "JournalFailed", error }))
  }

  /** Stops the run with `reason`. The engine interrupts the body; this effect never returns. */
  halt(reason: StopReason): Effect.Effect<never> {
    return Effect.andThen(Deferred.succeed(this.stop, reason), Effect.never)
  }
}

const isPending = (history: StepHistory): boolean =>
  history.outcome !== undefined || history.kind === "yield" || history.attempts.at(-1)?.end !== "interrupted"
