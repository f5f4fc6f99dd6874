/**
 * Waymark's shared journal: PostgreSQL, for several engines on one or many machines.
 *
 * The tables live in one Postgres schema (`waymark` unless the `schema` option sets another),
 * created with a recorded version on first use. Every write is one statement that PostgreSQL
 * commits on its own, so it is durable when it returns, as long as the server keeps its default
 * `synchronous_commit = on`. A write takes one round trip. Only a `create` or a failed `append`
 * that races with another writer takes a second one, to read the row that writer committed.
 * Leases are measured with the database server's clock, so engines on machines whose clocks
 * differ still agree on when a lease lapses.
 *
 * Connections come from a pool (@effect/sql-pg, which implements the PostgreSQL protocol itself).
 * A call on a connection that the server has closed fails with a `JournalError`, the pool drops
 * that connection, and later calls open new ones.
 *
 * @since 0.1.0
 */
import { PgClient, PgConnection } from "@effect/sql-pg"
import { DurableExecutionJournal, WorkflowError } from "@waymark/runtime"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Reactivity from "effect/reactivity/Reactivity"
import type * as Scope from "effect/Scope"
import type { ConnectionOptions } from "node:tls"
import { type ConnectionTarget, toJournalError } from "./internal/errors"
import { makeJournal } from "./internal/journal"
import { migrate, quoteIdentifier, validateSchemaName } from "./internal/schema"

/**
 * The connection URL used when neither `options.url` nor the `DATABASE_URL` environment variable
 * is set.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultUrl = "postgres://postgres@127.0.0.1:5432/postgres"

/**
 * The Postgres schema used when `options.schema` is not set.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSchema = "waymark"

/**
 * Options of `make` and `layer`. The pool settings are passed to @effect/sql-pg unchanged.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The connection URL, `postgres://user:password@host:port/database`. Defaults to the
   * `DATABASE_URL` environment variable, then to `defaultUrl`.
   */
  readonly url?: string | undefined
  /**
   * The Postgres schema that contains the journal's tables, created when missing: letters, digits
   * and underscores, at most 55 characters. Engines share a journal when they use the same database
   * and schema. Defaults to `waymark`.
   */
  readonly schema?: string | undefined
  /**
   * The maximum number of pooled connections; 10 by default. Each `watch` opens one more connection,
   * outside the pool, while its scope is open.
   */
  readonly maxConnections?: number | undefined
  /** The number of connections the pool keeps open when idle; 0 by default. */
  readonly minConnections?: number | undefined
  /** How long an unused connection stays open; 60 seconds by default. */
  readonly idleTimeout?: Duration.Input | undefined
  /** How long opening one connection may take; 5 seconds by default. */
  readonly connectTimeout?: Duration.Input | undefined
  /** How long a call may wait for a pooled connection; unbounded by default. */
  readonly acquireTimeout?: Duration.Input | undefined
  /** How long a connection is reused before the pool replaces it; unbounded by default. */
  readonly connectionTTL?: Duration.Input | undefined
  /** The `application_name` the server shows in `pg_stat_activity`; `waymark` by default. */
  readonly applicationName?: string | undefined
  /** TLS: `true`, or Node's TLS options. The URL's `sslmode` applies when this is not set. */
  readonly ssl?: boolean | ConnectionOptions | undefined
}

const resolveTarget = (options: Options): ConnectionTarget => {
  if (options.url !== undefined) return { url: options.url, source: "option" }
  const fromEnvironment = process.env.DATABASE_URL
  if (fromEnvironment !== undefined && fromEnvironment !== "") return { url: fromEnvironment, source: "environment" }
  return { url: defaultUrl, source: "default" }
}

/**
 * Opens the journal: creates the connection pool, then creates the schema and its tables when
 * missing. The pool is closed when the scope closes.
 *
 * Fails with a `JournalError` (operation `"open"`) when the schema name is invalid, when the server
 * cannot be reached (the hint names the URL, without its password), or when the schema records an
 * invalid version or one newer than this release reads (the hint recommends upgrading
 * @waymark/postgres).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<DurableExecutionJournal.Journal, WorkflowError.JournalError, Scope.Scope> =>
  Effect.gen(function*() {
    const schema = options.schema ?? defaultSchema
    const invalidSchema = validateSchemaName(schema)
    if (invalidSchema !== undefined) {
      return yield* new WorkflowError.JournalError({
        operation: "open",
        cause: new Error(`Cannot open the Postgres journal: ${invalidSchema}`),
        hint: "Pass a valid name in the `schema` option."
      })
    }
    const target = resolveTarget(options)
    const connection: PgConnection.Config = {
      url: Redacted.make(target.url),
      connectTimeout: options.connectTimeout,
      applicationName: options.applicationName ?? "waymark",
      ssl: options.ssl
    }
    const client = yield* PgClient.make({
      ...connection,
      maxConnections: options.maxConnections,
      minConnections: options.minConnections,
      idleTimeout: options.idleTimeout,
      acquireTimeout: options.acquireTimeout,
      connectionTTL: options.connectionTTL
    }).pipe(
      Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make),
      Effect.mapError((error) => toJournalError(target, "open", undefined, error))
    )
    yield* migrate(client, schema).pipe(
      Effect.catchTag("SqlError", (error) => Effect.fail(toJournalError(target, "open", undefined, error)))
    )
    yield* warnWhenCommitsAreAsynchronous(client)
    return makeJournal({
      client,
      connect: PgConnection.make(connection),
      schema,
      quotedSchema: quoteIdentifier(schema),
      target
    })
  })

// The journal never changes `synchronous_commit`, but a server, database or role may set it to
// `off`, and then a commit can be lost on a crash after the call returned.
const warnWhenCommitsAreAsynchronous = (client: PgClient.PgClient) =>
  client.unsafe<{ readonly setting: string }>("SELECT current_setting('synchronous_commit') AS setting").pipe(
    Effect.flatMap(([row]) =>
      row?.setting === "off"
        ? Effect.logWarning(
          "synchronous_commit is off for the journal's connections: a write acknowledged to an engine " +
            "can be lost if the PostgreSQL server crashes. Set it to on for the journal's database or role."
        )
        : Effect.void
    ),
    Effect.ignore({ log: "Warn", message: "Failed to read synchronous_commit of the journal's connections" })
  )

/**
 * A layer providing the Postgres journal. The connection pool stays open as long as the layer's
 * scope.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<DurableExecutionJournal.DurableExecutionJournal, WorkflowError.JournalError> =>
  Layer.effect(DurableExecutionJournal.DurableExecutionJournal, make(options))
