/**
 * Helpers for runtime tests: run engines on a given journal, seed a journal with a recorded history
 * as a crashed process would have left it, and wait for an execution's status.
 */
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import {
  DurableExecutionJournal,
  JournalEvent,
  type Workflow,
  WorkflowEngine
} from "@waymark/runtime"

type Journal = DurableExecutionJournal.Journal

/** A retry schedule fast enough for tests: 5 ms between attempts, at most `retries` retries. */
export const fastRetry = (retries = 5) =>
  Schedule.spaced("5 millis").pipe(Schedule.upTo({ times: retries })) as Schedule.Schedule<unknown, unknown>

/** Runs `use` with an engine on `journal`; the engine shuts down when `use` ends. */
export const withEngine = <const W extends ReadonlyArray<Workflow.Any>, A, E>(
  journal: Journal,
  workflows: W,
  use: (engine: WorkflowEngine.WorkflowEngine<W[number]>) => Effect.Effect<A, E>,
  options?: WorkflowEngine.Options
): Effect.Effect<A, E | unknown> =>
  Effect.scoped(
    Effect.flatMap(
      WorkflowEngine.make(workflows, options) as Effect.Effect<
        WorkflowEngine.WorkflowEngine<W[number]>,
        unknown,
        Scope.Scope | DurableExecutionJournal.DurableExecutionJournal
      >,
      use
    )
  ).pipe(Effect.provideService(DurableExecutionJournal.DurableExecutionJournal, journal))

/** Runs a test effect with logs silenced. */
export const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> =>
  Effect.runPromise(
    Effect.scoped(effect).pipe(Effect.provideService(References.MinimumLogLevel, "None"))
  )

/** Writes an execution and its log as a process that died after writing `events` would leave it. */
export const seed = (
  journal: Journal,
  input: {
    readonly executionId: string
    readonly workflow: string
    readonly payload: unknown
    readonly events?: ReadonlyArray<JournalEvent.JournalEvent>
    readonly status?: DurableExecutionJournal.ExecutionStatus
  }
) =>
  Effect.gen(function*() {
    const payload = JSON.stringify(input.payload)
    yield* journal.create({
      executionId: input.executionId,
      workflow: input.workflow,
      payload,
      first: JournalEvent.toEntry(
        { _tag: "Started", workflow: input.workflow, payload: input.payload as never },
        Date.now()
      )
    })
    const events = input.events ?? []
    if (events.length > 0 || input.status !== undefined) {
      yield* journal.append({
        executionId: input.executionId,
        expectedSequence: 2,
        entries: events.map((event) => JournalEvent.toEntry(event, Date.now())),
        status: input.status === undefined ? undefined : { status: input.status }
      })
    }
  })

/** Polls until the execution has `status` (10 ms steps, 10 s at most). */
export const awaitStatus = (
  journal: Journal,
  executionId: string,
  status: DurableExecutionJournal.ExecutionStatus
) =>
  Effect.gen(function*() {
    for (let round = 0; round < 1_000; round++) {
      const record = yield* journal.find(executionId)
      if (record?.status === status) return record
      yield* Effect.sleep("10 millis")
    }
    const record = yield* journal.find(executionId)
    return yield* Effect.die(
      new Error(`execution ${executionId} did not reach status ${status}; it is ${record?.status ?? "missing"}`)
    )
  })

/** The event kinds of an execution's log, with the activity name where there is one. */
export const kinds = (journal: Journal, executionId: string) =>
  Effect.map(journal.read(executionId), (entries) =>
    entries.map((entry) => {
      const event = JSON.parse(entry.data) as { _tag: string; activity?: string }
      return event.activity === undefined ? event._tag : `${event._tag}:${event.activity}`
    }))
