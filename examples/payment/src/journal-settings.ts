/**
 * Settings of the journal the example runs on, an SQLite file or a PostgreSQL schema. The main
 * process empties the journal before a run and passes the settings to the engine processes in
 * environment variables. Every process opens the journal with `journalLayer`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { PgClient } from "@effect/sql-pg"
import { PostgresJournal } from "@waymark/postgres"
import type { DurableExecutionJournal, WorkflowError } from "@waymark/runtime"
import { SqliteJournal } from "@waymark/sqlite"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Reactivity from "effect/reactivity/Reactivity"
import type { SqlError } from "effect/sql/SqlError"

export const journalKinds = ["sqlite", "postgres"] as const

export type JournalKind = (typeof journalKinds)[number]

export type JournalSettings =
  | { readonly kind: "sqlite"; readonly file: string }
  | {
    readonly kind: "postgres"
    /** The connection URL, password included. Print it only through `redactUrl`. */
    readonly url: string
    readonly schema: string
  }

/** The Postgres schema the example uses unless `--schema` names another. */
export const defaultPostgresSchema = "waymark_payment_example"

/** The server used when `DATABASE_URL` is not set, the same default as `PostgresJournal`. */
export const postgresUrlFromEnvironment = (): string => process.env.DATABASE_URL || PostgresJournal.defaultUrl

// NOTE: the same rule as PostgresJournal applies when it opens the schema. It is repeated here
// because the example drops the schema by name before the journal opens it, and @waymark/postgres
// does not export its check.
const maxSchemaNameLength = 55
const schemaNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Returns why `schema` is not a valid schema name for the journal, or `undefined` when it is. */
export const validateSchemaName = (schema: string): string | undefined => {
  if (!schemaNamePattern.test(schema)) {
    return `Invalid schema name ${JSON.stringify(schema)}: use letters, digits and underscores, ` +
      `starting with a letter or an underscore.`
  }
  if (schema.length > maxSchemaNameLength) {
    return `Invalid schema name "${schema}": it is ${schema.length} characters long, ` +
      `the maximum is ${maxSchemaNameLength}.`
  }
  return undefined
}

/** Returns `url` with its password replaced by `***`, in the user part and in the query. */
export const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***")
    return parsed.toString()
  } catch {
    return "(a URL that does not parse)"
  }
}

/** One line naming the journal, for the example's header. It never contains a password. */
export const describeJournal = (settings: JournalSettings): string =>
  settings.kind === "sqlite"
    ? `SQLite file ${settings.file}`
    : `PostgreSQL at ${redactUrl(settings.url)}, schema ${settings.schema}`

/** The environment variables that pass `settings` to an engine process. */
export const journalEnvironment = (settings: JournalSettings): Record<string, string> =>
  settings.kind === "sqlite"
    ? { WAYMARK_JOURNAL: "sqlite", WAYMARK_JOURNAL_FILE: settings.file }
    : { WAYMARK_JOURNAL: "postgres", WAYMARK_POSTGRES_URL: settings.url, WAYMARK_POSTGRES_SCHEMA: settings.schema }

/** Reads the settings from the variables that `journalEnvironment` sets. */
export const JournalSettingsConfig: Config.Config<JournalSettings> = Config.Literals(journalKinds, "WAYMARK_JOURNAL")
  .pipe(
    Config.flatMap((kind): Config.Config<JournalSettings> =>
      kind === "sqlite"
        ? Config.NonEmptyString("WAYMARK_JOURNAL_FILE").pipe(Config.map((file) => ({ kind, file })))
        : Config.all({
          url: Config.NonEmptyString("WAYMARK_POSTGRES_URL"),
          schema: Config.NonEmptyString("WAYMARK_POSTGRES_SCHEMA")
        }).pipe(Config.map(({ schema, url }) => ({ kind, url, schema })))
    )
  )

/** A layer that opens the journal and closes it when the layer's scope closes. */
export const journalLayer = (
  settings: JournalSettings
): Layer.Layer<DurableExecutionJournal.DurableExecutionJournal, WorkflowError.JournalError> =>
  settings.kind === "sqlite"
    ? SqliteJournal.layer({ filename: settings.file })
    : PostgresJournal.layer({ url: settings.url, schema: settings.schema })

/** A failure to empty the journal, with a one-line message that names the fix. */
export class JournalResetError extends Error {
  override readonly name = "JournalResetError"
}

/**
 * Empties the journal, so that every run starts from an empty one. For SQLite, deletes the file and
 * its WAL files. For Postgres, drops the schema with everything in it, and the journal creates it
 * again when the first engine opens it.
 *
 * Rejects with a `JournalResetError` when the schema cannot be dropped, as `dropPostgresSchema` lists.
 */
export const resetJournal = async (settings: JournalSettings): Promise<void> => {
  if (settings.kind === "sqlite") {
    fs.mkdirSync(path.dirname(settings.file), { recursive: true })
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(settings.file + suffix, { force: true })
    return
  }
  await dropPostgresSchema(settings.url, settings.schema)
}

/** How long opening the connection for the DROP may take before the example gives up. */
const CONNECT_TIMEOUT = "5 seconds"

/**
 * Drops `schema` and everything in it, if it exists, over one connection that is closed afterwards.
 * Rejects with a `JournalResetError` when the URL or the name is invalid, or the server fails.
 */
export const dropPostgresSchema = async (url: string, schema: string): Promise<void> => {
  if (!URL.canParse(url)) {
    throw new JournalResetError(
      "Invalid PostgreSQL URL in DATABASE_URL: expected postgres://USER:PASSWORD@HOST:PORT/DATABASE."
    )
  }
  const invalidSchema = validateSchemaName(schema)
  if (invalidSchema !== undefined) throw new JournalResetError(invalidSchema)

  const server = redactUrl(url)
  const drop = Effect.gen(function*() {
    const client = yield* PgClient.makeClient({
      url: Redacted.make(url),
      connectTimeout: CONNECT_TIMEOUT,
      applicationName: "waymark-payment-example"
    }).pipe(Effect.mapError((error) => new JournalResetError(describeConnectFailure(server, error))))

    // The name passed the check above, so quoting it is enough.
    yield* client.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).pipe(
      Effect.mapError((error) =>
        new JournalResetError(
          `Failed to drop the schema "${schema}" at ${server} (${describeSqlError(error)}). ` +
            `Pass another schema with --schema, or set DATABASE_URL to a user that may drop it.`
        )
      )
    )
  }).pipe(
    Effect.scoped,
    Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make)
  )
  await Effect.runPromise(drop)
}

const describeConnectFailure = (server: string, error: SqlError): string => {
  const reason = describeSqlError(error)
  switch (error.reason._tag) {
    case "ConnectionError":
      return `Cannot connect to PostgreSQL at ${server} (${reason}). Start the server ` +
        `(on Debian or Ubuntu: pg_ctlcluster 15 main start) or set DATABASE_URL to a server that accepts connections.`
    case "AuthenticationError":
      return `PostgreSQL at ${server} rejected the login (${reason}). ` +
        `Set DATABASE_URL with a valid user name and password.`
    default:
      return `Failed to connect to PostgreSQL at ${server} (${reason}). Check the database name and user in DATABASE_URL.`
  }
}

// The driver's own message can be generic, so the server's or the socket's message is added. Only the
// first line is kept, so that the example's error stays one line.
const describeSqlError = (error: SqlError): string => firstLine(fullMessage(error))

const fullMessage = (error: SqlError): string => {
  const inner = error.reason.cause
  const innerMessage = inner instanceof Error
    ? inner.message
    : typeof (inner as { readonly message?: unknown } | undefined)?.message === "string"
    ? (inner as { readonly message: string }).message
    : ""
  if (innerMessage === "" || innerMessage === error.message) return error.message
  return `${error.message}: ${innerMessage}`
}

const firstLine = (text: string): string => text.split("\n", 1)[0] ?? ""
