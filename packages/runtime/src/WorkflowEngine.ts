/**
 * The engine: registers workflows, starts and joins executions, runs them, and resumes the
 * unfinished ones, its own and those of engines that died, on the same journal.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Latch from "effect/Latch"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import {
  DurableExecutionJournal,
  type ExecutionRecord,
  type ExecutionStatus,
  type JournalEntry
} from "./DurableExecutionJournal"
import { FaultInjection } from "./FaultInjection"
import { decodeJson, encodeJson, isStorableText } from "./internal/codec"
import type { EngineHooks } from "./internal/Execution"
import { defaultEngineId, LeaseKeeper } from "./internal/LeaseKeeper"
import { type RunOutcome, runExecution } from "./internal/runExecution"
import { fromEntry, Outcome, type RecordedEvent, toEntry } from "./JournalEvent"
import type * as Workflow from "./Workflow"
import {
  EngineStoppedError,
  ExecutionNotFoundError,
  ExecutionNotResumableError,
  ExecutionParkedError,
  InvalidPayloadError,
  JournalConflictError,
  JournalDecodeError,
  type JournalError,
  LeaseLostError,
  UnknownWorkflowError
} from "./WorkflowError"
import type * as WorkflowRequest from "./WorkflowRequest"

/**
 * Errors of starting an execution.
 *
 * @since 0.1.0
 * @category errors
 */
export type StartError = UnknownWorkflowError | InvalidPayloadError | JournalError

/**
 * Errors of waiting for an execution's result, besides the workflow's own typed failure.
 *
 * @since 0.1.0
 * @category errors
 */
export type SendError = StartError | ExecutionParkedError | EngineStoppedError | JournalDecodeError

/**
 * @since 0.1.0
 * @category models
 */
export interface WorkflowEngine<W extends Workflow.Any> {
  /** The id under which this engine holds leases in the journal. */
  readonly engineId: string
  /**
   * Starts the execution for `request`, or joins it when its execution id exists, and waits for its
   * result: the workflow's success, or its typed failure in the error channel. Waits through pauses
   * and through runs on other engines; fails with `ExecutionParkedError` when the execution parks.
   */
  readonly send: <Request extends Workflow.RequestOf<W>>(
    request: Request
  ) => Effect.Effect<WorkflowRequest.Success<Request>, WorkflowRequest.Failure<Request> | SendError>
  /**
   * Starts the execution for `request` (or finds the existing one) and returns its execution id
   * once the start is durable, without waiting for the result.
   */
  readonly sendDiscard: (request: Workflow.RequestOf<W>) => Effect.Effect<string, StartError>
  /**
   * Resumes a paused or parked execution: journals the resume and runs it again from its log.
   */
  readonly resume: (
    executionId: string
  ) => Effect.Effect<
    void,
    | ExecutionNotFoundError
    | ExecutionNotResumableError
    | UnknownWorkflowError
    | JournalError
    | JournalConflictError
    | LeaseLostError
  >
  /** Reads the status row of an execution. */
  readonly find: (executionId: string) => Effect.Effect<ExecutionRecord | undefined, JournalError>
  /** Lists executions, optionally only those in the given statuses, oldest first. */
  readonly list: (
    filter?: { readonly status?: ReadonlyArray<ExecutionStatus> | undefined }
  ) => Effect.Effect<ReadonlyArray<ExecutionRecord>, JournalError>
  /** Reads and decodes the whole log of an execution. */
  readonly history: (
    executionId: string
  ) => Effect.Effect<ReadonlyArray<RecordedEvent>, JournalError | JournalDecodeError>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The id under which the engine holds leases. Give each engine process a stable id of its own
   * (a pod or host name) to let it take its executions back at once after a restart. Default: a
   * new id per engine (`host:pid:random`), so after a crash its executions wait for their leases
   * to lapse before another engine (or the restarted one) carries them on.
   */
  readonly engineId?: string | undefined
  /** How long a lease lasts without renewal; the engine renews at a third of it. Default: 10 s. */
  readonly leaseDuration?: Duration.Input | undefined
  /**
   * How often the engine looks for executions that no engine holds, and checks executions it
   * waits for on other engines. Journals that push changes (Postgres) wake it sooner. Default: 1 s.
   */
  readonly pollInterval?: Duration.Input | undefined
  /** The maximum number of executions this engine runs at once. Default: 1000. */
  readonly maxRunningExecutions?: number | undefined
  /**
   * How long a graceful shutdown waits for running activity attempts to finish before it
   * interrupts them. Default: 10 seconds.
   */
  readonly gracePeriod?: Duration.Input | undefined
  /** Whether to resume unfinished executions of the registered workflows on start. Default: `true`. */
  readonly resumeOnStart?: boolean | undefined
}

/**
 * Creates an engine for `workflows` on the provided journal, and resumes every unfinished execution
 * of those workflows that no other engine holds. Closing the scope shuts the engine down
 * gracefully: new attempts are not started, running ones get `gracePeriod` to finish, then the
 * executions are interrupted without being marked failed and their leases released, so they resume
 * on another engine or on the next start.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Workflows extends ReadonlyArray<Workflow.Any>>(
  workflows: Workflows,
  options?: Options
): Effect.Effect<
  WorkflowEngine<Workflows[number]>,
  JournalError,
  Scope.Scope | DurableExecutionJournal | Workflow.ServicesOf<Workflows[number]>
> =>
  Effect.gen(function*() {
    const journal = yield* DurableExecutionJournal
    const fault = yield* FaultInjection
    const services = yield* Effect.context<never>()
    const registry = new Map<string, Workflow.Any>()
    for (const workflow of workflows) {
      if (registry.has(workflow.tag)) {
        return yield* Effect.die(
          new Error(`Two workflows are registered for request tag "${workflow.tag}": each tag needs exactly one workflow.`)
        )
      }
      registry.set(workflow.tag, workflow)
    }
    const workflowTags = [...registry.keys()]
    const gracePeriod = Duration.fromInputUnsafe(options?.gracePeriod ?? "10 seconds")
    const pollInterval = Duration.fromInputUnsafe(options?.pollInterval ?? "1 second")
    const leaseDuration = Duration.fromInputUnsafe(options?.leaseDuration ?? "10 seconds")
    // Shorter settings turn the engine into a busy loop against the journal, or make leases lapse
    // between renewals.
    if (!(Duration.toMillis(pollInterval) >= 10) || !(Duration.toMillis(leaseDuration) >= 100)) {
      return yield* Effect.die(
        new Error(
          `Invalid engine options: pollInterval must be at least 10 ms and leaseDuration at least 100 ms ` +
            `(got ${Duration.toMillis(pollInterval)} ms and ${Duration.toMillis(leaseDuration)} ms).`
        )
      )
    }
    const maxRunning = options?.maxRunningExecutions ?? 1_000

    /**
     * Executions running in this process, with the lease each run writes under. The lease object is
     * shared with the run, so a newer claim by this engine moves the run to the new epoch.
     */
    const running = new Map<string, { readonly lease: HeldLease; fiber: Fiber.Fiber<void> | undefined }>()
    // Starts of new executions between their capacity check and their run, counted as running.
    let starting = 0
    /** The number of executions this engine may still start or claim. */
    const freeCapacity = () => maxRunning - running.size - starting
    const restarts = new Set<string>()
    const waiters = new Map<string, Waiter>()
    const journalRetries = new Map<string, number>()
    let shuttingDown = false
    let attemptsInFlight = 0
    const idle = Latch.makeUnsafe(true)
    // Changes pushed by the journal wake the pollers before their next poll: the claim loop when
    // an execution became claimable, callers waiting on other engines when one finished.
    const claimable = makeSignal()
    const finished = makeSignal()
    const nextPoll = (signal: Signal) =>
      Effect.suspend(() => Effect.raceFirst(Effect.sleep(pollInterval), signal.wait()))

    const hooks: EngineHooks = {
      journal,
      fault,
      isShuttingDown: () => shuttingDown,
      trackAttempt: (attempt) =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            attemptsInFlight++
            idle.closeUnsafe()
          }),
          () => attempt,
          () =>
            Effect.sync(() => {
              attemptsInFlight--
              if (attemptsInFlight === 0) idle.openUnsafe()
            })
        )
    }

    const engineScope = yield* Effect.scope
    const runScope = yield* Scope.fork(engineScope, "parallel")
    const leases: LeaseKeeper = new LeaseKeeper({
      journal,
      engineId: options?.engineId ?? defaultEngineId(),
      leaseMs: Math.ceil(Duration.toMillis(leaseDuration)),
      workflows: workflowTags,
      // A run whose lease is gone must stop at once: its writes would be rejected, and another
      // engine may already be running the execution.
      onLost: (executionIds) =>
        Effect.forEach(executionIds, (executionId) => {
          const run = running.get(executionId)
          return run?.fiber === undefined ? Effect.void : Fiber.interrupt(run.fiber)
        }, { discard: true }),
      held: () => new Map([...running].map(([executionId, run]) => [executionId, run.lease])),
      // Leases this engine holds in the journal for executions it does not run (a run it stopped
      // when renewals failed, say): run them, or the renewals would keep them from every engine.
      // At capacity they are released for other engines instead.
      onOrphaned: (executionIds): Effect.Effect<void> =>
        freeCapacity() <= 0
          ? Effect.ignore(leases.release(executionIds))
          : Effect.forEach(executionIds, (executionId) => Effect.forkIn(acquire(executionId), runScope), { discard: true })
    })
    const { engineId } = leases

    const lookup = (tag: unknown) => {
      const workflow = typeof tag === "string" ? registry.get(tag) : undefined
      return workflow === undefined
        ? Effect.fail(new UnknownWorkflowError({ workflow: describeTag(tag), registered: workflowTags }))
        : Effect.succeed(workflow)
    }

    const settle = (executionId: string, outcome: RunOutcome): Effect.Effect<void> =>
      Effect.gen(function*() {
        const waiter = waiters.get(executionId)
        switch (outcome._tag) {
          case "Finished": {
            journalRetries.delete(executionId)
            waiters.delete(executionId)
            if (waiter !== undefined) yield* Deferred.succeed(waiter, outcome.result)
            return
          }
          case "Parked": {
            journalRetries.delete(executionId)
            waiters.delete(executionId)
            if (waiter !== undefined) {
              yield* Deferred.fail(waiter, new ExecutionParkedError({ executionId, reason: outcome.error.message }))
            }
            return
          }
          case "Paused": {
            yield* Effect.logInfo("Execution paused; resume it with engine.resume")
            return
          }
          case "JournalFailed": {
            if (outcome.error instanceof LeaseLostError || outcome.error instanceof JournalConflictError) {
              // Another engine owns the execution now, and waiters learn its result by polling.
              yield* Effect.logWarning("Execution stopped: another engine holds it now", outcome.error.message)
              return
            }
            if (shuttingDown) return
            const retry = (journalRetries.get(executionId) ?? 0) + 1
            journalRetries.set(executionId, retry)
            const delay = Duration.millis(Math.min(1_000 * 2 ** (retry - 1), 30_000))
            yield* Effect.logWarning("Journal failed during a run; retrying the execution", outcome.error.message)
            yield* Effect.forkIn(Effect.andThen(Effect.sleep(delay), acquire(executionId)), runScope)
            return
          }
          case "Interrupted":
            return
        }
      }).pipe(Effect.annotateLogs({ executionId }))

    /** Runs an execution that this engine owns under `epoch`, unless it runs here already. */
    const start = (
      workflow: Workflow.Any,
      executionId: string,
      epoch: number,
      known?: ReadonlyArray<JournalEntry>
    ): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (shuttingDown) return Effect.void
        // The check and the insert run without a yield between them, so one process never runs an
        // execution twice at the same time.
        const current = running.get(executionId)
        if (current !== undefined) {
          // This engine claimed again an execution it runs (its own lease had lapsed): the run goes
          // on under the new epoch. Had another engine written in between, the run's next write
          // fails on its sequence number and the run stops.
          if (epoch > current.lease.epoch) {
            current.lease.epoch = epoch
            current.lease.renewedAt = Date.now()
          }
          return Effect.void
        }
        const run = { lease: { engineId, epoch, renewedAt: Date.now() }, fiber: undefined as Fiber.Fiber<void> | undefined }
        running.set(executionId, run)
        return Effect.forkIn(
          runExecution(hooks, workflow, executionId, run.lease, services, known).pipe(
            Effect.flatMap((outcome) => settle(executionId, outcome)),
            // In a finalizer, so that it also happens when the run was interrupted.
            Effect.ensuring(Effect.suspend(() => {
              running.delete(executionId)
              return restarts.delete(executionId) ? Effect.asVoid(Effect.forkIn(acquire(executionId), runScope)) : Effect.void
            }))
          ),
          runScope
        ).pipe(Effect.map((fiber) => {
          run.fiber = fiber
        }))
      })

    /**
     * Claims one execution if no engine owns it, and runs it. At capacity it does nothing, and the
     * claim loop takes the execution once a run ends.
     */
    const acquire = (executionId: string): Effect.Effect<void> =>
      Effect.gen(function*() {
        if (running.has(executionId) || shuttingDown || freeCapacity() <= 0) return
        const claimed = yield* Effect.result(leases.claim({ executionId, limit: 1, includeOwn: true }))
        if (claimed._tag === "Failure") {
          return yield* Effect.logWarning("Claiming an execution failed", claimed.failure.message)
        }
        yield* Effect.forEach(claimed.success, runClaimed, { discard: true })
      })

    const runClaimed = (record: ExecutionRecord): Effect.Effect<void> => {
      const workflow = registry.get(record.workflow)
      // Claims only cover registered workflows; a record of another one is released at once.
      if (workflow === undefined) return Effect.ignore(leases.release([record.executionId]))
      return start(workflow, record.executionId, record.epoch)
    }

    /** Claims executions that no engine holds, up to the free capacity, and runs them. */
    const claimAvailable = (includeOwn: boolean) =>
      Effect.gen(function*() {
        const free = freeCapacity()
        if (free <= 0 || shuttingDown) return
        const claimed = yield* leases.claim({ limit: free, includeOwn })
        if (claimed.length > 0) yield* Effect.logInfo("Claimed unfinished executions", { count: claimed.length })
        yield* Effect.forEach(claimed, runClaimed, { discard: true })
      })

    const startRequest = (request: WorkflowRequest.Any, waiter: boolean) =>
      Effect.gen(function*() {
        const workflow = yield* lookup(request?._tag)
        const invalid = (issue: string) => new InvalidPayloadError({ workflow: workflow.tag, payload: request, issue })
        // A plain object (a request decoded from JSON, say) is checked against the request schema
        // and made an instance first, so both forms are validated the same way.
        if (!(request instanceof workflow.request)) {
          const decode = Schema.decodeUnknownEffect(workflow.request as unknown as Schema.Codec<WorkflowRequest.Any>)
          request = yield* Effect.mapError(decode(request), (error) => invalid(error.message))
        }
        const payload = yield* Effect.mapError(encodeJson(workflow.request as never, request), invalid)
        const executionId = yield* executionIdOf(workflow, request, invalid)
        // The waiter exists before the journal is read, so a run that finishes in between still
        // completes it.
        const deferred = waiter ? waiterFor(executionId) : undefined
        const now = yield* Clock.currentTimeMillis
        const text = JSON.stringify(payload)
        const started = [{ _tag: "Started", workflow: workflow.tag, payload: payload as never }] as const
        yield* fault({ _tag: "BeforeAppend", executionId, events: started })
        const first = toEntry(started[0], now)
        // At capacity, the execution is created without an owner, for any engine to claim. The
        // check counts starts still in flight, so concurrent sends cannot all pass it.
        const atCapacity = freeCapacity() <= 0
        if (!atCapacity) starting++
        const { created, execution } = yield* Effect.gen(function*() {
          const result = yield* journal.create({
            executionId,
            workflow: workflow.tag,
            payload: text,
            first,
            owner: atCapacity ? undefined : { engineId, leaseMs: leases.leaseMs }
          })
          if (result.created) {
            yield* fault({ _tag: "AfterAppend", executionId, events: started })
            yield* Effect.logInfo("Execution started")
            if (!atCapacity) {
              yield* start(workflow, executionId, result.execution.epoch, [{ ...first, executionId, sequence: 1 }])
            }
          }
          return result
        }).pipe(Effect.ensuring(Effect.sync(() => {
          if (!atCapacity) starting--
        })))
        if (!created) {
          if (execution.payload !== text) {
            yield* Effect.logWarning(
              "A request joined an existing execution with a different payload; the recorded payload is kept"
            )
          }
          if (execution.status === "running") yield* acquire(executionId)
        }
        return { workflow, execution, deferred }
      }).pipe(Effect.annotateLogs({ workflow: request?._tag }))

    const waiterFor = (executionId: string) => {
      let deferred = waiters.get(executionId)
      if (deferred === undefined) {
        deferred = Deferred.makeUnsafe<string, ExecutionParkedError | EngineStoppedError>()
        waiters.set(executionId, deferred)
      }
      return deferred
    }

    const dropWaiter = (executionId: string, deferred: Waiter | undefined) => {
      if (deferred !== undefined && waiters.get(executionId) === deferred && !Deferred.isDoneUnsafe(deferred)) {
        waiters.delete(executionId)
      }
    }

    /**
     * Waits for the result of an execution: from the local run when it runs here, otherwise by
     * reading the journal on every poll (or pushed change). An execution that no engine owns any
     * more is claimed and run here.
     */
    const awaitResult = (executionId: string, deferred: Waiter) =>
      Effect.gen(function*() {
        while (true) {
          const done = yield* Effect.raceFirst(
            Effect.map(Deferred.await(deferred), (result) => ({ result })),
            Effect.as(nextPoll(finished), undefined)
          )
          if (done !== undefined) return done.result
          if (running.has(executionId)) continue
          const record = yield* journal.find(executionId)
          if (record === undefined) return yield* new ExecutionNotFoundError({ executionId }).pipe(Effect.orDie)
          if (!knownStatuses.has(record.status)) return yield* unknownStatus(record)
          if (record.status === "completed" || record.status === "failed") return record.result ?? ""
          if (record.status === "parked") {
            return yield* new ExecutionParkedError({ executionId, reason: record.statusDetail ?? "no reason recorded" })
          }
          if (record.status === "running") yield* acquire(executionId)
        }
      })

    const decodeResult = (workflow: Workflow.Any, executionId: string, result: string) =>
      Effect.gen(function*() {
        const fail = (issue: string) => new JournalDecodeError({ executionId, value: result, issue })
        const outcome = yield* Effect.try({
          try: () => Schema.decodeUnknownSync(Outcome)(JSON.parse(result)),
          catch: (error) => fail(`the recorded outcome is invalid: ${String(error)}`)
        })
        if (outcome._tag === "Success") {
          return yield* decodeJson(workflow.request.success, outcome.value).pipe(
            Effect.mapError((issue) => fail(`the recorded result does not match the success schema: ${issue}`))
          )
        }
        const error = yield* decodeJson(workflow.request.failure, outcome.error).pipe(
          Effect.mapError((issue) => fail(`the recorded failure does not match the failure schema: ${issue}`))
        )
        return yield* Effect.fail(error)
      })

    const send = (request: WorkflowRequest.Any) =>
      Effect.gen(function*() {
        const { workflow, execution, deferred } = yield* startRequest(request, true)
        const { executionId } = execution
        let result: string
        if (execution.status === "completed" || execution.status === "failed") {
          dropWaiter(executionId, deferred)
          result = execution.result ?? ""
        } else if (!knownStatuses.has(execution.status)) {
          dropWaiter(executionId, deferred)
          return yield* unknownStatus(execution)
        } else if (execution.status === "parked") {
          dropWaiter(executionId, deferred)
          return yield* new ExecutionParkedError({ executionId, reason: execution.statusDetail ?? "no reason recorded" })
        } else {
          result = yield* awaitResult(executionId, deferred!)
        }
        return yield* decodeResult(workflow, executionId, result)
      }).pipe(Effect.withSpan("WorkflowEngine.send", { attributes: { "waymark.workflow": request?._tag } }))

    const sendDiscard = (request: WorkflowRequest.Any) =>
      Effect.map(startRequest(request, false), ({ execution }) => execution.executionId).pipe(
        Effect.withSpan("WorkflowEngine.sendDiscard", { attributes: { "waymark.workflow": request?._tag } })
      )

    const resume = (executionId: string) =>
      Effect.gen(function*() {
        const record = yield* journal.find(executionId)
        if (record === undefined) return yield* new ExecutionNotFoundError({ executionId })
        if (!isResumable(record.status)) {
          return yield* new ExecutionNotResumableError({ executionId, status: record.status })
        }
        yield* lookup(record.workflow)
        const now = yield* Clock.currentTimeMillis
        yield* journal.append({
          executionId,
          expectedSequence: record.lastSequence + 1,
          entries: [toEntry({ _tag: "Resumed", from: record.status }, now)],
          status: { status: "running" }
        })
        yield* Effect.logInfo("Execution resumed")
        // A resume can land while the run that paused is still winding down: run it again after.
        if (running.has(executionId)) restarts.add(executionId)
        else yield* acquire(executionId)
      }).pipe(
        Effect.annotateLogs({ executionId }),
        Effect.withSpan("WorkflowEngine.resume", { attributes: { "waymark.execution_id": executionId } })
      )

    const history = (executionId: string) =>
      Effect.flatMap(journal.read(executionId), (entries) => Effect.forEach(entries, fromEntry))

    // Shutdown order: stop starting attempts, let running attempts finish within the grace period,
    // interrupt the runs (their status stays `running`), release their leases so that another
    // engine can take them at once, then release the callers still waiting.
    yield* Scope.addFinalizer(
      engineScope,
      Effect.gen(function*() {
        shuttingDown = true
        yield* Effect.logInfo("Engine shutting down", { attemptsInFlight })
        yield* Effect.timeoutOption(idle.await, gracePeriod)
        const held = [...running.keys()]
        yield* Scope.close(runScope, Exit.void)
        yield* Effect.ignore(leases.release(held))
        for (const [executionId, waiter] of waiters) {
          yield* Deferred.fail(waiter, new EngineStoppedError({ executionId }))
        }
        waiters.clear()
      })
    )

    if (journal.watch !== undefined) {
      yield* journal.watch((change) => {
        if (change.claimable) claimable.notify()
        if (change.status !== "running") finished.notify()
      }).pipe(Scope.provide(runScope))
    }
    if (options?.resumeOnStart !== false) {
      yield* claimAvailable(true)
      yield* Effect.forkIn(
        Effect.forever(Effect.andThen(nextPoll(claimable), Effect.ignore(claimAvailable(false)))),
        runScope
      )
    }
    yield* Effect.forkIn(leases.keep, runScope)

    const engine: WorkflowEngine<Workflow.Any> = {
      engineId,
      send: send as WorkflowEngine<Workflow.Any>["send"],
      sendDiscard,
      resume,
      find: journal.find,
      list: journal.list,
      history
    }
    return engine as WorkflowEngine<Workflows[number]>
  }) as never

/**
 * Same as `make`: the engine lives as long as the enclosing scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeScoped = make

type Waiter = Deferred.Deferred<string, ExecutionParkedError | EngineStoppedError>

/** The lease a run writes under, shared with the run, and when it was last renewed (epoch ms). */
interface HeldLease {
  readonly engineId: string
  epoch: number
  renewedAt: number
}

interface Signal {
  readonly notify: () => void
  readonly wait: () => Effect.Effect<void>
}

/** Creates a signal that wakes everyone waiting on it when it is notified. */
const makeSignal = (): Signal => {
  let current = Deferred.makeUnsafe<void>()
  return {
    notify: () => {
      const previous = current
      current = Deferred.makeUnsafe<void>()
      Deferred.doneUnsafe(previous, Exit.void)
    },
    wait: () => Deferred.await(current)
  }
}

/** Calls the workflow's execution id function, which must return a non-empty string. */
const executionIdOf = (
  workflow: Workflow.Any,
  request: WorkflowRequest.Any,
  invalid: (issue: string) => InvalidPayloadError
): Effect.Effect<string, InvalidPayloadError> =>
  Effect.suspend(() => {
    let executionId: unknown
    try {
      executionId = workflow.executionId(request)
    } catch (error) {
      return Effect.fail(invalid(`the execution id function threw: ${String(error)}`))
    }
    if (typeof executionId !== "string" || executionId.length === 0) {
      return Effect.fail(
        invalid(`the execution id function returned ${JSON.stringify(executionId) ?? String(executionId)}, not a non-empty string`)
      )
    }
    if (!isStorableText(executionId)) {
      return Effect.fail(
        invalid(`the execution id ${JSON.stringify(executionId)} contains a NUL character or a lone surrogate, which journals cannot store`)
      )
    }
    return Effect.succeed(executionId)
  })

const describeTag = (tag: unknown): string =>
  typeof tag === "string" ? tag : `${tag === undefined ? "no _tag" : `_tag ${String(tag)}`}`

const isResumable = (status: ExecutionStatus) => status === "paused" || status === "parked"

const knownStatuses = new Set<string>(["running", "paused", "parked", "completed", "failed"])

/** A status row edited outside Waymark, which the engine cannot act on. */
const unknownStatus = (record: ExecutionRecord) =>
  new JournalDecodeError({
    executionId: record.executionId,
    value: record.status,
    issue: `the execution's status "${record.status}" is not one of ${[...knownStatuses].join(", ")}`
  })
