/**
 * An engine's side of the leases: claiming executions that no engine holds, renewing the leases it
 * holds, and stopping the runs whose lease it lost.
 */
import { randomUUID } from "node:crypto"
import { hostname } from "node:os"
import * as Effect from "effect/Effect"
import type { ExecutionRecord, Journal } from "../DurableExecutionJournal"
import type { JournalError } from "../WorkflowError"

/** Returns an engine id unique to this engine: host, process id and a random part. */
export const defaultEngineId = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`

export interface LeaseKeeperOptions {
  readonly journal: Journal
  readonly engineId: string
  readonly leaseMs: number
  /** The workflows the engine registers: it claims executions of these only. */
  readonly workflows: ReadonlyArray<string>
  /**
   * The executions running here, with the lease each one runs under. The keeper updates
   * `renewedAt` when a renewal covers it.
   */
  readonly held: () => ReadonlyMap<string, { readonly epoch: number; renewedAt: number }>
  /** Stops the runs of executions whose lease this engine no longer holds. */
  readonly onLost: (executionIds: ReadonlyArray<string>) => Effect.Effect<void>
  /** Takes care of executions whose lease this engine holds but that no run of it runs. */
  readonly onOrphaned: (executionIds: ReadonlyArray<string>) => Effect.Effect<void>
}

export class LeaseKeeper {
  readonly engineId: string
  readonly leaseMs: number

  constructor(private readonly options: LeaseKeeperOptions) {
    this.engineId = options.engineId
    this.leaseMs = options.leaseMs
  }

  claim(input: {
    readonly limit: number
    readonly executionId?: string | undefined
    readonly includeOwn?: boolean | undefined
  }): Effect.Effect<ReadonlyArray<ExecutionRecord>, JournalError> {
    return this.options.journal.claim({
      ...input,
      engineId: this.engineId,
      leaseMs: this.leaseMs,
      workflows: this.options.workflows
    })
  }

  release(executionIds: ReadonlyArray<string>): Effect.Effect<void, JournalError> {
    if (executionIds.length === 0) return Effect.void
    return this.options.journal.release({ engineId: this.engineId, executionIds })
  }

  /**
   * Renews the leases every third of the lease duration, for as long as it runs. Runs whose lease
   * another engine took are stopped. When renewals keep failing, every run is stopped before the
   * leases can lapse, so that no other engine starts an execution while this one still runs it.
   */
  get keep(): Effect.Effect<never> {
    const { journal, engineId, leaseMs, held, onLost, onOrphaned } = this.options
    const renewOnce = Effect.gen(function*() {
      // Only runs that existed before the renewal started can be missing from its result.
      const before = new Map([...held()].map(([executionId, lease]) => [executionId, lease.epoch]))
      const startedAt = Date.now()
      const renewed = yield* Effect.result(journal.renew({ engineId, leaseMs }))
      if (renewed._tag === "Failure") {
        yield* Effect.logWarning("Renewing leases failed; retrying", renewed.failure.message)
        // Each run stops before its own lease can lapse. The margin of a tenth of the lease covers
        // the time a renewal takes to reach the journal.
        const expiring = [...held()]
          .filter(([, lease]) => Date.now() > lease.renewedAt + leaseMs * 0.9)
          .map(([executionId]) => executionId)
        if (expiring.length > 0) {
          yield* Effect.logError("Leases could not be renewed in time; stopping the runs that hold them", {
            executionIds: expiring
          })
          yield* onLost(expiring)
        }
        return
      }
      const epochs = new Map(renewed.success.map((lease) => [lease.executionId, lease.epoch]))
      for (const [executionId, lease] of held()) {
        if (epochs.get(executionId) === lease.epoch) lease.renewedAt = startedAt
      }
      const lost = [...before].filter(([executionId, epoch]) =>
        epochs.get(executionId) !== epoch && held().get(executionId)?.epoch === epoch
      ).map(([executionId]) => executionId)
      if (lost.length > 0) {
        yield* Effect.logWarning("Another engine took over executions of this engine; stopping them", {
          executionIds: lost
        })
        yield* onLost(lost)
      }
      const running = held()
      const orphaned = [...epochs.keys()].filter((executionId) => !running.has(executionId))
      if (orphaned.length > 0) yield* onOrphaned(orphaned)
    })
    return Effect.forever(Effect.andThen(Effect.sleep(`${Math.max(1, Math.floor(leaseMs / 3))} millis`), renewOnce))
  }
}
