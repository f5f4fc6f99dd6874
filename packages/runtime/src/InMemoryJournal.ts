/**
 * A journal kept in memory: for unit tests and for trying things out. It loses everything when
 * the process exits.
 *
 * Events are stored as the same JSON text a durable backend stores, so a value that does not
 * survive serialization fails here too, not first in production.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import {
  DurableExecutionJournal,
  type ExecutionRecord,
  type Journal,
  type JournalEntry
} from "./DurableExecutionJournal"
import { JournalConflictError } from "./WorkflowError"

interface StoredExecution {
  record: ExecutionRecord
  readonly entries: Array<JournalEntry>
}

/**
 * Creates an in-memory journal. Each call returns a journal of its own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Journal => {
  // Insertion order of the map is creation order, which `list` promises.
  const executions = new Map<string, StoredExecution>()

  const journal: Journal = {
    create: ({ executionId, workflow, payload, first }) =>
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
          updatedAt: first.recordedAt
        }
        executions.set(executionId, { record, entries: [{ ...first, executionId, sequence: 1 }] })
        return { created: true, execution: record }
      }),

    append: ({ executionId, expectedSequence, entries, status }) =>
      Effect.suspend(() => {
        const stored = executions.get(executionId)
        const actual = stored === undefined ? 1 : stored.record.lastSequence + 1
        if (stored === undefined || actual !== expectedSequence) {
          return Effect.fail(new JournalConflictError({ executionId, expectedSequence, actualSequence: actual }))
        }
        entries.forEach((entry, index) =>
          stored.entries.push({ ...entry, executionId, sequence: expectedSequence + index })
        )
        const last = entries.at(-1)
        stored.record = {
          ...stored.record,
          lastSequence: stored.record.lastSequence + entries.length,
          updatedAt: last?.recordedAt ?? stored.record.updatedAt,
          ...(status === undefined ? {} : {
            status: status.status,
            statusDetail: status.detail,
            result: status.result ?? stored.record.result
          })
        }
        return Effect.void
      }),

    setStatus: (executionId, status) =>
      Effect.sync(() => {
        const stored = executions.get(executionId)
        if (stored === undefined) return
        stored.record = {
          ...stored.record,
          status: status.status,
          statusDetail: status.detail,
          result: status.result ?? stored.record.result
        }
      }),

    read: (executionId) => Effect.sync(() => [...(executions.get(executionId)?.entries ?? [])]),

    find: (executionId) => Effect.sync(() => executions.get(executionId)?.record),

    list: (filter) =>
      Effect.sync(() =>
        [...executions.values()]
          .map((stored) => stored.record)
          .filter((record) => filter?.status === undefined || filter.status.includes(record.status))
      )
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
