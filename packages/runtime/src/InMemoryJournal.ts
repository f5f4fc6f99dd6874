/**
 * A journal kept in memory: for unit tests and for trying things out. It loses everything when
 * the process exits.
 *
 * Events are stored as the same JSON text a durable backend stores, so a value that does not
 * survive serialization fails here too, not first in production. Several engines in one process
 * can share one in-memory journal, with the same leases and change notifications as a database.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import {
  DurableExecutionJournal,
  type ExecutionRecord,
  type Journal,
  type JournalChange,
  type JournalEntry,
  type Lease,
  type StatusUpdate
} from "./DurableExecutionJournal"
import { JournalConflictError, LeaseLostError } from "./WorkflowError"

interface StoredExecution {
  record: ExecutionRecord
  readonly entries: Array<JournalEntry>
}

/**
 * Creates an in-memory journal. Each call returns a journal of its own. Leases are measured with
 * `Date.now()`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Journal => {
  // Insertion order of the map is creation order, which `list` and `claim` promise.
  const executions = new Map<string, StoredExecution>()
  const listeners = new Set<(change: JournalChange) => void>()

  const notify = (record: ExecutionRecord) => {
    const change: JournalChange = {
      executionId: record.executionId,
      status: record.status,
      claimable: record.status === "running" && record.owner === undefined
    }
    for (const listener of listeners) listener(change)
  }

  /** Returns the error for a write under `lease` that the record no longer accepts, if any. */
  const staleLease = (record: ExecutionRecord, lease: Lease | undefined) =>
    lease !== undefined && (record.owner !== lease.engineId || record.epoch !== lease.epoch)
      ? new LeaseLostError({ executionId: record.executionId, engineId: lease.engineId, epoch: lease.epoch })
      : undefined

  const withStatus = (record: ExecutionRecord, status: StatusUpdate, now: number): ExecutionRecord => {
    const keepsLease = status.status === "running"
    return {
      ...record,
      status: status.status,
      statusDetail: status.detail,
      result: status.result ?? record.result,
      updatedAt: now,
      owner: keepsLease ? record.owner : undefined,
      leaseExpiresAt: keepsLease ? record.leaseExpiresAt : undefined
    }
  }

  const journal: Journal = {
    create: ({ executionId, workflow, payload, first, owner }) =>
      Effect.sync(() => {
        const existing = executions.get(executionId)
        if (existing !== undefined) return { created: false, execution: existing.record }
        const record: ExecutionRecord = {
          executionId,
          workflow,
          status: "running",
          payload,
          result: undefined,
          statusDetail: undefined,
          lastSequence: 1,
          createdAt: first.recordedAt,
          updatedAt: first.recordedAt,
          owner: owner?.engineId,
          leaseExpiresAt: owner === undefined ? undefined : Date.now() + owner.leaseMs,
          epoch: owner === undefined ? 0 : 1
        }
        executions.set(executionId, { record, entries: [{ ...first, executionId, sequence: 1 }] })
        notify(record)
        return { created: true, execution: record }
      }),

    append: ({ executionId, expectedSequence, entries, status, lease }) =>
      Effect.suspend((): Effect.Effect<void, JournalConflictError | LeaseLostError> => {
        const stored = executions.get(executionId)
        const actual = stored === undefined ? 1 : stored.record.lastSequence + 1
        const stale = stored === undefined ? undefined : staleLease(stored.record, lease)
        if (stale !== undefined) return Effect.fail(stale)
        if (stored === undefined || actual !== expectedSequence) {
          return Effect.fail(new JournalConflictError({ executionId, expectedSequence, actualSequence: actual }))
        }
        entries.forEach((entry, index) =>
          stored.entries.push({ ...entry, executionId, sequence: expectedSequence + index })
        )
        const updatedAt = entries.at(-1)?.recordedAt ?? stored.record.updatedAt
        const appended = { ...stored.record, lastSequence: stored.record.lastSequence + entries.length, updatedAt }
        stored.record = status === undefined ? appended : withStatus(appended, status, updatedAt)
        if (status !== undefined) notify(stored.record)
        return Effect.void
      }),

    setStatus: (executionId, status, lease) =>
      Effect.suspend((): Effect.Effect<void, LeaseLostError> => {
        const stored = executions.get(executionId)
        if (stored === undefined) return Effect.void
        const stale = staleLease(stored.record, lease)
        if (stale !== undefined) return Effect.fail(stale)
        stored.record = withStatus(stored.record, status, Date.now())
        notify(stored.record)
        return Effect.void
      }),

    read: (executionId) => Effect.sync(() => [...(executions.get(executionId)?.entries ?? [])]),

    find: (executionId) => Effect.sync(() => executions.get(executionId)?.record),

    list: (filter) =>
      Effect.sync(() =>
        [...executions.values()]
          .map((stored) => stored.record)
          .filter((record) => filter?.status === undefined || filter.status.includes(record.status))
      ),

    claim: ({ engineId, leaseMs, limit, executionId, includeOwn, workflows }) =>
      Effect.sync(() => {
        const now = Date.now()
        const claimed: Array<ExecutionRecord> = []
        for (const stored of executions.values()) {
          if (claimed.length >= limit) break
          const { record } = stored
          if (record.status !== "running") continue
          if (executionId !== undefined && record.executionId !== executionId) continue
          if (workflows !== undefined && !workflows.includes(record.workflow)) continue
          const free = record.owner === undefined || (record.leaseExpiresAt ?? 0) <= now
          const own = includeOwn === true && record.owner === engineId
          if (!free && !own) continue
          stored.record = { ...record, owner: engineId, leaseExpiresAt: now + leaseMs, epoch: record.epoch + 1 }
          claimed.push(stored.record)
        }
        return claimed
      }),

    renew: ({ engineId, leaseMs }) =>
      Effect.sync(() => {
        const now = Date.now()
        const renewed: Array<{ executionId: string; epoch: number }> = []
        for (const stored of executions.values()) {
          if (stored.record.status !== "running" || stored.record.owner !== engineId) continue
          stored.record = { ...stored.record, leaseExpiresAt: now + leaseMs }
          renewed.push({ executionId: stored.record.executionId, epoch: stored.record.epoch })
        }
        return renewed
      }),

    release: ({ engineId, executionIds }) =>
      Effect.sync(() => {
        for (const executionId of executionIds) {
          const stored = executions.get(executionId)
          if (stored === undefined || stored.record.owner !== engineId || stored.record.status !== "running") continue
          stored.record = { ...stored.record, owner: undefined, leaseExpiresAt: undefined }
          notify(stored.record)
        }
      }),

    watch: (listener) =>
      Effect.acquireRelease(
        Effect.sync(() => listeners.add(listener)),
        () => Effect.sync(() => listeners.delete(listener))
      ).pipe(Effect.asVoid)
  }
  return journal
}

/**
 * A layer providing a fresh in-memory journal.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DurableExecutionJournal> = Layer.sync(DurableExecutionJournal, make)
