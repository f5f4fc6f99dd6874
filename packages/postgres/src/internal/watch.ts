/**
 * `watch`: LISTEN on the schema's change channel and pass each notification to a listener.
 */
import type { PgConnection } from "@effect/sql-pg"
import { type DurableExecutionJournal, WorkflowError } from "@waymark/runtime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import * as Scope from "effect/Scope"
import type { SqlError } from "effect/sql/SqlError"
import { causeOf, type ConnectionTarget, toJournalError } from "./errors"

type JournalChange = DurableExecutionJournal.JournalChange

/** The connection factory, channel and connection target that `watch` uses. */
export interface WatchContext {
  /** Opens a connection outside the pool, closed with the scope. */
  readonly connect: Effect.Effect<PgConnection.PgConnection, SqlError, Scope.Scope>
  readonly channel: string
  readonly target: ConnectionTarget
}

/** Notification payload as the journal's statements build it, or `undefined` for anything else. */
const parseChange = (payload: string): JournalChange | undefined => {
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return undefined
  }
  if (typeof value !== "object" || value === null) return undefined
  const { executionId, status, claimable } = value as Record<string, unknown>
  if (typeof executionId !== "string" || typeof status !== "string" || typeof claimable !== "boolean") {
    return undefined
  }
  return { executionId, status: status as DurableExecutionJournal.ExecutionStatus, claimable }
}

// Delay before the next LISTEN after the connection was lost: 100 ms, doubling up to 5 seconds.
const relistenDelay = (attempt: number): Duration.Duration =>
  Duration.millis(Math.min(100 * 2 ** attempt, 5_000))

/**
 * Builds `watch`. It opens a connection of its own for LISTEN, outside the pool, so a listener
 * never takes a connection that the journal's calls need, and closes it with the scope.
 *
 * It returns once the server confirmed LISTEN, so every change committed after that reaches the
 * listener. When that connection is lost, it logs a warning and listens again on a new connection,
 * retrying with backoff until the scope closes.
 *
 * NOTE: changes committed while no connection listens are not delivered, and nothing informs the
 * listener that some were missed. Engines find those executions on their next poll.
 */
export const makeWatch = (context: WatchContext) =>
(
  listener: (change: JournalChange) => void
): Effect.Effect<void, WorkflowError.JournalError, Scope.Scope> =>
  Effect.gen(function*() {
    const { connect, channel, target } = context
    const listen = Effect.flatMap(connect, (connection) => connection.listen(channel))

    const deliver = (payload: string): Effect.Effect<void> => {
      const change = parseChange(payload)
      if (change === undefined) {
        return Effect.logWarning("Ignored a notification that is not a journal change", { channel, payload })
      }
      return Effect.try({ try: () => listener(change), catch: (error) => error }).pipe(
        Effect.ignore({
          log: "Error",
          message: `The journal change listener threw on a change of execution "${change.executionId}"`
        })
      )
    }

    // Fails only when the connection is lost, with the driver's error.
    const deliverAll = (queue: Queue.Dequeue<PgConnection.Notification, SqlError>) =>
      Effect.forever(Effect.flatMap(Queue.take(queue), (notification) => deliver(notification.payload)))

    const scope = yield* Effect.scope
    const firstScope = yield* Scope.fork(scope)
    const firstQueue = yield* listen.pipe(
      Scope.provide(firstScope),
      Effect.mapError((error) => toJournalError(target, "watch", undefined, error))
    )

    const relistenForever = Effect.gen(function*() {
      let lost: SqlError = yield* Effect.flip(deliverAll(firstQueue))
      yield* Scope.close(firstScope, Exit.void)
      let attempt = 0
      while (true) {
        yield* Effect.logWarning("Lost the connection that listens for journal changes. Listening again", {
          channel,
          attempt: attempt + 1,
          error: causeOf(lost).message
        })
        yield* Effect.sleep(relistenDelay(attempt))
        attempt++
        const session = Effect.gen(function*() {
          const queue = yield* listen
          attempt = 0
          yield* Effect.logInfo(
            "Listening for journal changes again. Changes committed while no connection listened were not delivered",
            { channel }
          )
          return yield* deliverAll(queue)
        })
        lost = yield* Effect.flip(Effect.scoped(session))
      }
    })
    yield* Effect.forkIn(relistenForever, scope)
  })
