/**
 * The engine: registers workflows, starts and joins executions, runs them, and resumes the
 * unfinished ones when it starts.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as Schema from "effect/Schema"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { DurableExecutionJournal, type ExecutionRecord, type ExecutionStatus } from "./DurableExecutionJournal"
import { FaultInjection } from "./FaultInjection"
import { decodeJson, encodeJson } from "./internal/codec"
import type { EngineHooks } from "./internal/Execution"
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
  /**
   * Starts the execution for `request`, or joins it when its execution id exists, and waits for its
   * result: the workflow's success, or its typed failure in the error channel. Waits through pauses;
   * fails with `ExecutionParkedError` when the execution parks.
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
    ExecutionNotFoundError | ExecutionNotResumableError | UnknownWorkflowError | JournalError | JournalConflictError
  >
  /** Reads the status row of an execution. */
  readonly find: (executionId: string) => Effect.Effect<ExecutionRecord | undefined, JournalError>
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
   * How long a graceful shutdown waits for running activity attempts to finish before it
   * interrupts them. Default: 10 seconds.
   */
  readonly gracePeriod?: Duration.Input | undefined
  /** Whether to resume every `running` execution of a registered workflow on start. Default: `true`. */
  readonly resumeOnStart?: boolean | undefined
}

/**
 * Creates an engine for `workflows` on the provided journal, and resumes every execution that was
 * started and did not finish. Closing the scope shuts the engine down gracefully: new attempts are
 * not started, running ones get `gracePeriod` to finish, then the executions are interrupted
 * without being marked failed, and resume on the next start.
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
    const registry = new Map<string, Workflow.Any>(workflows.map((workflow) => [workflow.tag, workflow]))
    const gracePeriod = Duration.fromInputUnsafe(options?.gracePeriod ?? "10 seconds")

    const running = new Set<string>()
    const restarts = new Set<string>()
    const waiters = new Map<string, Waiter>()
    const journalRetries = new Map<string, number>()
    let shuttingDown = false
    let attemptsInFlight = 0
    const idle = Latch.makeUnsafe(true)

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

    const lookup = (tag: string) => {
      const workflow = registry.get(tag)
      return workflow === undefined
        ? Effect.fail(new UnknownWorkflowError({ workflow: tag, registered: [...registry.keys()] }))
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
            if (outcome.error instanceof JournalConflictError) {
              yield* Effect.logError("Execution stopped: another writer appended to its journal", outcome.error.message)
              return
            }
            if (shuttingDown) return
            const retry = (journalRetries.get(executionId) ?? 0) + 1
            journalRetries.set(executionId, retry)
            const delay = Duration.millis(Math.min(1_000 * 2 ** (retry - 1), 30_000))
            yield* Effect.logWarning("Journal failed during a run; retrying the execution", outcome.error.message)
            yield* Effect.forkIn(
              Effect.andThen(Effect.sleep(delay), ensureRunningByTag(executionId)),
              runScope
            )
            return
          }
          case "Interrupted":
            return
        }
      }).pipe(Effect.annotateLogs({ executionId }))

    const ensureRunning = (
      workflow: Workflow.Any,
      executionId: string,
      options?: { readonly restart?: boolean }
    ): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (shuttingDown) return Effect.void
        // The check and the insert run without a yield between them, so one process never runs an
        // execution twice at the same time.
        if (running.has(executionId)) {
          // A resume can land while the run that paused is still winding down, so run it again after.
          if (options?.restart === true) restarts.add(executionId)
          return Effect.void
        }
        running.add(executionId)
        return Effect.asVoid(Effect.forkIn(
          runExecution(hooks, workflow, executionId, services).pipe(
            Effect.ensuring(Effect.sync(() => running.delete(executionId))),
            Effect.flatMap((outcome) => settle(executionId, outcome)),
            Effect.andThen(Effect.suspend(() =>
              restarts.delete(executionId) ? ensureRunning(workflow, executionId) : Effect.void
            ))
          ),
          runScope
        ))
      })

    const ensureRunningByTag = (executionId: string): Effect.Effect<void> =>
      Effect.gen(function*() {
        const record = yield* Effect.result(journal.find(executionId))
        if (record._tag === "Failure") return yield* settle(executionId, { _tag: "JournalFailed", error: record.failure })
        const workflow = record.success === undefined ? undefined : registry.get(record.success.workflow)
        if (workflow !== undefined && record.success?.status === "running") yield* ensureRunning(workflow, executionId)
      })

    const start = (request: WorkflowRequest.Any, waiter: boolean) =>
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
        const executionId = workflow.executionId(request)
        // The waiter exists before the journal is read, so a run that finishes in between still
        // completes it.
        const deferred = waiter ? waiterFor(executionId) : undefined
        const now = yield* Clock.currentTimeMillis
        const text = JSON.stringify(payload)
        const started = [{ _tag: "Started", workflow: workflow.tag, payload: payload as never }] as const
        yield* fault({ _tag: "BeforeAppend", executionId, events: started })
        const { created, execution } = yield* journal.create({
          executionId,
          workflow: workflow.tag,
          payload: text,
          first: toEntry(started[0], now)
        })
        if (created) yield* fault({ _tag: "AfterAppend", executionId, events: started })
        if (created) {
          yield* Effect.logInfo("Execution started")
        } else if (execution.payload !== text) {
          yield* Effect.logWarning(
            "A request joined an existing execution with a different payload; the recorded payload is kept"
          )
        }
        if (execution.status === "running") yield* ensureRunning(workflow, executionId)
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
        const { workflow, execution, deferred } = yield* start(request, true)
        const { executionId } = execution
        let result: string
        if (execution.status === "completed" || execution.status === "failed") {
          dropWaiter(executionId, deferred)
          result = execution.result ?? ""
        } else if (execution.status === "parked") {
          dropWaiter(executionId, deferred)
          return yield* new ExecutionParkedError({ executionId, reason: execution.statusDetail ?? "no reason recorded" })
        } else {
          result = yield* Deferred.await(deferred!)
        }
        return yield* decodeResult(workflow, executionId, result)
      }).pipe(Effect.withSpan("WorkflowEngine.send", { attributes: { "waymark.workflow": request?._tag } }))

    const dropWaiter = (executionId: string, deferred: Waiter | undefined) => {
      if (deferred !== undefined && waiters.get(executionId) === deferred && !Deferred.isDoneUnsafe(deferred)) {
        waiters.delete(executionId)
      }
    }

    const sendDiscard = (request: WorkflowRequest.Any) =>
      Effect.map(start(request, false), ({ execution }) => execution.executionId).pipe(
        Effect.withSpan("WorkflowEngine.sendDiscard", { attributes: { "waymark.workflow": request?._tag } })
      )

    const resume = (executionId: string) =>
      Effect.gen(function*() {
        const record = yield* journal.find(executionId)
        if (record === undefined) return yield* new ExecutionNotFoundError({ executionId })
        if (!isResumable(record.status)) {
          return yield* new ExecutionNotResumableError({ executionId, status: record.status })
        }
        const workflow = yield* lookup(record.workflow)
        const now = yield* Clock.currentTimeMillis
        yield* journal.append({
          executionId,
          expectedSequence: record.lastSequence + 1,
          entries: [toEntry({ _tag: "Resumed", from: record.status }, now)],
          status: { status: "running" }
        })
        yield* Effect.logInfo("Execution resumed")
        yield* ensureRunning(workflow, executionId, { restart: true })
      }).pipe(
        Effect.annotateLogs({ executionId }),
        Effect.withSpan("WorkflowEngine.resume", { attributes: { "waymark.execution_id": executionId } })
      )

    const history = (executionId: string) =>
      Effect.flatMap(journal.read(executionId), (entries) => Effect.forEach(entries, fromEntry))

    // Shutdown order: stop starting attempts, let running attempts finish within the grace period,
    // interrupt the runs (their status stays `running`), then release the callers still waiting.
    yield* Scope.addFinalizer(
      engineScope,
      Effect.gen(function*() {
        shuttingDown = true
        yield* Effect.logInfo("Engine shutting down", { attemptsInFlight })
        yield* Effect.timeoutOption(idle.await, gracePeriod)
        yield* Scope.close(runScope, Exit.void)
        for (const [executionId, waiter] of waiters) {
          yield* Deferred.fail(waiter, new EngineStoppedError({ executionId }))
        }
        waiters.clear()
      })
    )

    if (options?.resumeOnStart !== false) {
      const unfinished = yield* journal.list({ status: ["running"] })
      for (const record of unfinished) {
        const workflow = registry.get(record.workflow)
        if (workflow === undefined) {
          yield* Effect.logWarning("Not resuming an execution of a workflow this engine does not register").pipe(
            Effect.annotateLogs({ executionId: record.executionId, workflow: record.workflow })
          )
          continue
        }
        yield* ensureRunning(workflow, record.executionId)
      }
      if (unfinished.length > 0) yield* Effect.logInfo("Resumed unfinished executions", { count: unfinished.length })
    }

    const engine: WorkflowEngine<Workflow.Any> = {
      send: send as WorkflowEngine<Workflow.Any>["send"],
      sendDiscard,
      resume,
      find: journal.find,
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

const isResumable = (status: ExecutionStatus) => status === "paused" || status === "parked"
