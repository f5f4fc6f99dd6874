/**
 * The journal contract: an ordered, append-only log of events per execution, plus one row per
 * execution that indexes its status.
 *
 * Backends (in-memory, SQLite, Postgres) implement this small encoded contract and nothing else:
 * events arrive as a kind and a JSON text, and are returned exactly as written. Decoding, replay and
 * every workflow rule live in the runtime, so that all backends behave the same.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { JournalConflictError, JournalError } from "./WorkflowError"

/**
 * The lifecycle state of an execution.
 *
 * - `running`: started and not finished; an engine runs it or resumes it on start.
 * - `paused`: the body called `Workflow.yieldExecution`; it waits for `resume`.
 * - `parked`: stopped on an error that needs an operator (a replay divergence, a journal row that
 *   does not decode, retries exhausted); it waits for `resume`.
 * - `completed` / `failed`: the workflow returned its success or its typed failure.
 *
 * @since 0.1.0
 * @category models
 */
export type ExecutionStatus = "running" | "paused" | "parked" | "completed" | "failed"

/**
 * The index row of one execution.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecutionRecord {
  readonly executionId: string
  readonly workflow: string
  readonly status: ExecutionStatus
  /** The request payload, as the JSON text it was stored as. */
  readonly payload: string
  /** The encoded result (JSON text) once the status is `completed` or `failed`. */
  readonly result: string | undefined
  /** The reason the execution is paused or parked. */
  readonly statusDetail: string | undefined
  /** The sequence number of the last event. */
  readonly lastSequence: number
  /** Epoch milliseconds. */
  readonly createdAt: number
  /** Epoch milliseconds. */
  readonly updatedAt: number
}

/**
 * One event to append: its kind and its encoded body.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewEntry {
  readonly kind: string
  /** The event, as JSON text. */
  readonly data: string
  /** Epoch milliseconds, from the engine's clock. */
  readonly recordedAt: number
}

/**
 * One recorded event.
 *
 * @since 0.1.0
 * @category models
 */
export interface JournalEntry extends NewEntry {
  readonly executionId: string
  /** Position in the execution's log: 1 for the first event, then consecutive. */
  readonly sequence: number
}

/**
 * A status change written in the same transaction as an append.
 *
 * @since 0.1.0
 * @category models
 */
export interface StatusUpdate {
  readonly status: ExecutionStatus
  readonly detail?: string | undefined
  /** The encoded result, for `completed` and `failed`. */
  readonly result?: string | undefined
}

/**
 * The result of `create`: the execution it found or made.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateResult {
  /** `false` when an execution with this id already existed; nothing was written then. */
  readonly created: boolean
  readonly execution: ExecutionRecord
}

/**
 * The journal service.
 *
 * Every effect returns only once its write is durable (committed and synced, as far as the backend
 * offers), because the engine acts on a write as soon as it returns.
 *
 * @since 0.1.0
 * @category models
 */
export interface Journal {
  /**
   * Creates an execution with status `running` and its first event at sequence 1, unless one with
   * this id exists: then nothing is written and the existing row is returned. Insert-if-absent is
   * atomic, so two concurrent creates of one id make one execution.
   */
  readonly create: (input: {
    readonly executionId: string
    readonly workflow: string
    readonly payload: string
    readonly first: NewEntry
  }) => Effect.Effect<CreateResult, JournalError>

  /**
   * Appends events at `expectedSequence`, `expectedSequence + 1`, ... and applies `status` in the
   * same transaction. Fails with `JournalConflictError`, writing nothing, when the log's next
   * sequence is not `expectedSequence`, so two writers can never interleave or overwrite events.
   */
  readonly append: (input: {
    readonly executionId: string
    readonly expectedSequence: number
    readonly entries: ReadonlyArray<NewEntry>
    readonly status?: StatusUpdate | undefined
  }) => Effect.Effect<void, JournalError | JournalConflictError>

  /** Changes only the status row (used to park an execution without touching its log). */
  readonly setStatus: (executionId: string, status: StatusUpdate) => Effect.Effect<void, JournalError>

  /** Reads the whole log of an execution in sequence order; empty when the id is unknown. */
  readonly read: (executionId: string) => Effect.Effect<ReadonlyArray<JournalEntry>, JournalError>

  /** Finds the index row of an execution. */
  readonly find: (executionId: string) => Effect.Effect<ExecutionRecord | undefined, JournalError>

  /** Lists executions, optionally only those in the given statuses, oldest first. */
  readonly list: (filter?: {
    readonly status?: ReadonlyArray<ExecutionStatus> | undefined
  }) => Effect.Effect<ReadonlyArray<ExecutionRecord>, JournalError>
}

/**
 * The journal service key. Provide it with a backend's layer (`InMemoryJournal.layer`,
 * `SqliteJournal.layer(...)`).
 *
 * @since 0.1.0
 * @category services
 */
export class DurableExecutionJournal extends Context.Service<DurableExecutionJournal, Journal>()(
  "@waymark/runtime/DurableExecutionJournal"
) {}
