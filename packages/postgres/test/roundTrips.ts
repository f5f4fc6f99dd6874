/**
 * A journal whose connections count the writes they make to the server, to measure how many round
 * trips an operation takes. The driver sends each statement as one socket write (Parse, Bind,
 * Execute and Sync, or Bind, Execute and Sync once prepared) and then waits for the reply. So with
 * one connection, the number of writes during an operation is its number of round trips.
 */
import { PgClient, PgConnection } from "@effect/sql-pg"
import type { DurableExecutionJournal, WorkflowError } from "@waymark/runtime"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Reactivity from "effect/reactivity/Reactivity"
import type * as Scope from "effect/Scope"
import type { SqlError } from "effect/sql/SqlError"
import * as net from "node:net"
import { makeJournal } from "../src/internal/journal"
import { migrate, quoteIdentifier } from "../src/internal/schema"

export interface CountingJournal {
  readonly journal: DurableExecutionJournal.Journal
  readonly client: PgClient.PgClient
  /** The number of socket writes made so far, over all connections of the pool. */
  readonly writes: () => number
}

/**
 * Opens a journal on `schema` through a pool of one connection whose socket writes are counted.
 * Only TCP URLs are supported.
 */
export const makeCountingJournal = (
  url: string,
  schema: string
): Effect.Effect<CountingJournal, SqlError | WorkflowError.JournalError, Scope.Scope> =>
  Effect.gen(function*() {
    const parsed = new URL(url)
    let writes = 0
    const connection: PgConnection.Config = {
      url: Redacted.make(url),
      applicationName: "waymark-round-trips",
      stream: () => {
        const socket = net.connect({
          host: parsed.hostname || "localhost",
          port: Number(parsed.port || 5432),
          noDelay: true
        })
        const write = socket.write.bind(socket) as (...args: Array<unknown>) => boolean
        socket.write = ((...args: Array<unknown>) => {
          writes++
          return write(...args)
        }) as typeof socket.write
        return socket
      }
    }
    const client = yield* PgClient.make({ ...connection, maxConnections: 1 }).pipe(
      Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make)
    )
    yield* migrate(client, schema)
    const journal = makeJournal({
      client,
      connect: PgConnection.make(connection),
      schema,
      quotedSchema: quoteIdentifier(schema),
      target: { url, source: "option" }
    })
    return { journal, client, writes: () => writes }
  })
