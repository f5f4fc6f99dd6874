/**
 * The journal contract: an ordered, append-only log of events per execution, plus one row per
 * execution that indexes its status.
 *
 * Backends (in-memory, SQLite, Postgres) implement this small encoded contract and nothing else:
 * events arrive as a kind and a JSON text, and are returned exactly as written. Every text is
 * well-formed Unicode without NUL characters (JSON.stringify escapes both), because Postgres text
 * cannot hold NUL and UTF-8 has no lone surrogates. Decoding, replay and
 * every workflow rule live in the runtime, so that all backends behave the same.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { JournalConflictError, JournalError, LeaseLostError } from "./WorkflowError"

/**
 * The lifecycle state of an execution.
 *
 * - `running`: started and not finished; an engine runs it or resumes it on start.
 * - `paused`: the body called `Workflow.yieldExecution`; it waits for `resume`.
 * - `parked`: stopped on an error that needs an operator (a replay divergence, a journal row that
 *   does not decode, retries exhausted). It waits for `resume`.
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
  /** The engine that holds the execution's lease, if one does. Only `running` executions have one. */
  readonly owner: string | undefined
  /** When the lease lapses, in epoch milliseconds of the journal's clock. */
  readonly leaseExpiresAt: number | undefined
  /** The fencing token: 0 until the first claim, then incremented by every claim. */
  readonly epoch: number
}

/**
 * The right of one engine to write to one execution, as given by `create` or `claim`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly engineId: string
  /** The epoch of the claim; a later claim by anyone makes this lease stale. */
  readonly epoch: number
}

/**
 * A change that another engine may want to act on: an execution was created, changed status, or
 * was released by its owner.
 *
 * @since 0.1.0
 * @category models
 */
export interface JournalChange {
  readonly executionId: string
  readonly status: ExecutionStatus
  /** `true` when the execution is `running` and no engine owns it, so any engine may claim it. */
  readonly claimable: boolean
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
   * atomic, so two concurrent creates of one id make one execution. With `owner`, a created
   * execution is leased to that engine at epoch 1 for `leaseMs`.
   */
  readonly create: (input: {
    readonly executionId: string
    readonly workflow: string
    readonly payload: string
    readonly first: NewEntry
    readonly owner?: { readonly engineId: string; readonly leaseMs: number } | undefined
  }) => Effect.Effect<CreateResult, JournalError>

  /**
   * Appends events at `expectedSequence`, `expectedSequence + 1`, ... and applies `status` in the
   * same transaction. Writes nothing and fails:
   * - with `LeaseLostError` when `lease` is given and the execution's owner or epoch differ from it,
   *   so a stale owner's late write is never recorded;
   * - with `JournalConflictError` when the log's next sequence is not `expectedSequence`, so two
   *   writers can never interleave or overwrite events.
   * A status other than `running` drops the lease (owner and expiry), keeping the epoch.
   */
  readonly append: (input: {
    readonly executionId: string
    readonly expectedSequence: number
    readonly entries: ReadonlyArray<NewEntry>
    readonly status?: StatusUpdate | undefined
    readonly lease?: Lease | undefined
  }) => Effect.Effect<void, JournalError | JournalConflictError | LeaseLostError>

  /**
   * Changes only the status row (used to park an execution without touching its log). Fenced by
   * `lease` like `append`; a status other than `running` drops the lease.
   */
  readonly setStatus: (
    executionId: string,
    status: StatusUpdate,
    lease?: Lease | undefined
  ) => Effect.Effect<void, JournalError | LeaseLostError>

  /** Reads the whole log of an execution in sequence order; empty when the id is unknown. */
  readonly read: (executionId: string) => Effect.Effect<ReadonlyArray<JournalEntry>, JournalError>

  /** Finds the index row of an execution. */
  readonly find: (executionId: string) => Effect.Effect<ExecutionRecord | undefined, JournalError>

  /** Lists executions, optionally only those in the given statuses, oldest first. */
  readonly list: (filter?: {
    readonly status?: ReadonlyArray<ExecutionStatus> | undefined
  }) => Effect.Effect<ReadonlyArray<ExecutionRecord>, JournalError>

  /**
   * Claims `running` executions that no engine owns: those without an owner, and those whose lease
   * has lapsed by the journal's clock. With `includeOwn` it also claims those already owned by
   * `engineId`, for an engine that restarts under the same id. With `executionId`, only that
   * execution is considered, and with `workflows`, only executions of those workflows.
   * Each claimed execution gets `engineId` as owner, a lease of `leaseMs` from now and the next
   * epoch, and is returned, oldest first, at most `limit` of them. Concurrent claims never take one
   * execution twice.
   */
  readonly claim: (input: {
    readonly engineId: string
    readonly leaseMs: number
    readonly limit: number
    readonly executionId?: string | undefined
    readonly includeOwn?: boolean | undefined
    /** Only executions of these workflows (the ones the engine registers); all when absent. */
    readonly workflows?: ReadonlyArray<string> | undefined
  }) => Effect.Effect<ReadonlyArray<ExecutionRecord>, JournalError>

  /**
   * Extends to `leaseMs` from now the lease of every `running` execution that `engineId` owns, and
   * returns those executions with their epochs. An execution missing from the result is no longer
   * held by this engine.
   */
  readonly renew: (input: {
    readonly engineId: string
    readonly leaseMs: number
  }) => Effect.Effect<ReadonlyArray<{ readonly executionId: string; readonly epoch: number }>, JournalError>

  /**
   * Drops the lease of the given executions that `engineId` still owns, so that any engine can claim
   * them at once (used on graceful shutdown). The epoch is kept.
   */
  readonly release: (input: {
    readonly engineId: string
    readonly executionIds: ReadonlyArray<string>
  }) => Effect.Effect<void, JournalError>

  /**
   * Calls `listener` after every committed change that makes an execution claimable or changes its
   * status, including changes made by other processes, for as long as the scope is open. Backends
   * that cannot push changes leave it out, and engines poll instead.
   */
  readonly watch?: ((listener: (change: JournalChange) => void) => Effect.Effect<void, JournalError, Scope.Scope>) | undefined
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
