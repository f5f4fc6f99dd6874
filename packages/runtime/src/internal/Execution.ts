/**
 * The state of one run of one execution: its replay index, the steps consumed so far, the next
 * sequence number, and the signal that stops the run.
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Semaphore from "effect/Semaphore"
import type { Journal, Lease, StatusUpdate } from "../DurableExecutionJournal"
import { type FaultPoint } from "../FaultInjection"
import { type JournalEvent, toEntry } from "../JournalEvent"
import {
  type ActivityRetriesExhaustedError,
  type DuplicateActivityError,
  type InvalidActivityResultError,
  type JournalConflictError,
  type JournalDecodeError,
  type JournalError,
  type LeaseLostError,
  NonDeterminismError,
  type WorkflowDefectError
} from "../WorkflowError"
import { describeStep, type ReplayIndex, type StepHistory } from "./ReplayIndex"

/** An error that stops the execution until an operator resumes it. */
export type ParkReason =
  | NonDeterminismError
  | DuplicateActivityError
  | ActivityRetriesExhaustedError
  | InvalidActivityResultError
  | JournalDecodeError
  | WorkflowDefectError

/** The reason a run stopped before its body returned. */
export type StopReason =
  | { readonly _tag: "Paused" }
  | { readonly _tag: "Parked"; readonly error: ParkReason }
  | { readonly _tag: "JournalFailed"; readonly error: JournalWriteError }

/** The ways a journal write can fail. */
export type JournalWriteError = JournalError | JournalConflictError | LeaseLostError

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
  /** The step each fiber of the body consumed last. */
  private readonly lastStepOf = new WeakMap<object, string>()
  private readonly lock = Semaphore.makeUnsafe(1)
  /** Events recorded but not yet written: they are written with the next write of this run. */
  private pending: Array<JournalEvent> = []
  private attemptsRunning = 0

  constructor(
    readonly executionId: string,
    readonly workflow: string,
    readonly index: ReplayIndex,
    readonly hooks: EngineHooks,
    readonly stop: Deferred.Deferred<StopReason>,
    readonly lease: Lease | undefined,
    private nextSequence: number
  ) {}

  /** Counts an activity attempt of this execution as running until `attemptEnded`. */
  attemptStarted(): void {
    this.attemptsRunning++
  }

  attemptEnded(): void {
    this.attemptsRunning--
  }

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
   * Looks up a step the body requests and marks it consumed, returning what the journal records of
   * it and the step the calling fiber consumed before (`after`, to journal with a new step).
   *
   * A recorded step must follow the same step in its fiber as when it was recorded, so that two
   * branches that call one name in another order on replay are caught instead of swapping
   * results. For a step the journal does not have, the other branches first get to replay. If
   * recorded steps are still unconsumed then, the body took another path than the one recorded.
   * Either divergence halts the run with a `NonDeterminismError`.
   */
  claim(step: string): Effect.Effect<{ readonly history: StepHistory | undefined; readonly after: string | null }> {
    const self = this
    return Effect.gen(function*() {
      const fiber = Fiber.getCurrent()
      const after = fiber === undefined ? null : self.lastStepOf.get(fiber) ?? null
      if (fiber !== undefined) self.lastStepOf.set(fiber, step)
      const recorded = self.index.steps.get(step)
      if (recorded !== undefined) {
        self.consumed.add(step)
        if (recorded.after !== undefined && recorded.after !== after) {
          return yield* self.diverged(
            `${describeStep(step)} after ${describeStep(after)}`,
            `${describeStep(step)} after ${describeStep(recorded.after)}`
          )
        }
        return { history: recorded, after }
      }
      let pending = self.pendingCount()
      let quiet = 0
      for (let round = 0; round < MAX_ROUNDS && pending > 0 && quiet < QUIET_ROUNDS; round++) {
        yield* Effect.yieldNow
        const now = self.pendingCount()
        quiet = now === pending ? quiet + 1 : 0
        pending = now
      }
      const skipped = self.firstPending()
      if (skipped !== undefined) return yield* self.diverged(describeStep(step), describeStep(skipped.step))
      return { history: undefined, after }
    })
  }

  private diverged(requested: string, recorded: string): Effect.Effect<never> {
    return this.halt({
      _tag: "Parked",
      error: new NonDeterminismError({
        executionId: this.executionId,
        workflow: this.workflow,
        requested,
        recorded
      })
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
   * Appends events durably, in call order, together with any pending events, and applies `status`
   * in the same transaction. Appends of one execution are serialized, so parallel branches get
   * consecutive sequence numbers. With a lease, a write after another engine claimed the
   * execution is rejected.
   */
  tryAppend(events: ReadonlyArray<JournalEvent>, status?: StatusUpdate): Effect.Effect<void, JournalWriteError> {
    const self = this
    return this.lock.withPermit(Effect.gen(function*() {
      // Outcomes recorded while this write is in flight stay pending for the next one.
      const included = self.pending.length
      const batch = included === 0 ? events : [...self.pending, ...events]
      if (batch.length === 0 && status === undefined) return
      yield* self.hooks.fault({ _tag: "BeforeAppend", executionId: self.executionId, events: batch })
      const now = yield* Clock.currentTimeMillis
      yield* self.hooks.journal.append({
        executionId: self.executionId,
        expectedSequence: self.nextSequence,
        entries: batch.map((event) => toEntry(event, now)),
        status,
        lease: self.lease
      })
      self.nextSequence += batch.length
      self.pending = self.pending.slice(included)
      yield* self.hooks.fault({ _tag: "AfterAppend", executionId: self.executionId, events: batch })
    }))
  }

  /**
   * Appends like `tryAppend`, from inside the body. When the journal fails the run halts, because
   * nothing that follows may act as if the write had happened.
   */
  append(events: ReadonlyArray<JournalEvent>, status?: StatusUpdate): Effect.Effect<void> {
    return Effect.catch(this.tryAppend(events, status), (error) => this.halt({ _tag: "JournalFailed", error }))
  }

  /**
   * Records an activity's outcome. When no other attempt of this execution is running, the event
   * is written with the run's next write (the next attempt, pause or completion) instead of on its
   * own, which halves the commits of a sequential workflow. That is safe because nothing outside
   * the body learns of the outcome before that write: a crash before it re-runs the activity, as a
   * crash before an immediate write would. With attempts running in parallel, the outcome is
   * written at once, so a long sibling attempt cannot hold it back.
   */
  recordOutcome(event: JournalEvent): Effect.Effect<void> {
    if (this.attemptsRunning > 0) return this.append([event])
    return Effect.sync(() => {
      this.pending.push(event)
    })
  }

  /** Writes the pending events, if any. */
  flush(): Effect.Effect<void, JournalWriteError> {
    return this.pending.length === 0 ? Effect.void : this.tryAppend([])
  }

  /** Stops the run with `reason`. The engine interrupts the body; this effect never returns. */
  halt(reason: StopReason): Effect.Effect<never> {
    return Effect.andThen(Deferred.succeed(this.stop, reason), Effect.never)
  }
}

const isPending = (history: StepHistory): boolean =>
  history.outcome !== undefined || history.kind === "yield" || history.attempts.at(-1)?.end !== "interrupted"
