/**
 * The journal's tables, and the migration that creates them once per Postgres schema.
 */
import { WorkflowError } from "@waymark/runtime"
import * as Effect from "effect/Effect"
import type * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

/**
 * The version of the tables this code reads and writes, stored in the `meta` table. A schema with
 * a higher version was written by a newer release and is rejected.
 */
export const schemaVersion = 1

/** The maximum length of a schema name, so that its change channel (`<schema>.changes`) fits in 63 bytes. */
export const maxSchemaNameLength = 55

const schemaNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Returns the reason why `schema` is an invalid schema name, or `undefined` when it is valid. */
export const validateSchemaName = (schema: string): string | undefined => {
  if (!schemaNamePattern.test(schema)) {
    return `the schema name ${JSON.stringify(schema)} is invalid: use letters, digits and underscores, ` +
      `starting with a letter or an underscore`
  }
  if (schema.length > maxSchemaNameLength) {
    return `the schema name "${schema}" is ${schema.length} characters long, but the maximum is ${maxSchemaNameLength}`
  }
  return undefined
}

/** Quotes an identifier for SQL text, doubling any double quote in it. */
export const quoteIdentifier = (identifier: string): string => `"${identifier.replaceAll("\"", "\"\"")}"`

/** Returns the channel of `pg_notify` and `LISTEN` for a schema, so that schemas do not receive each other's changes. */
export const channelOf = (schema: string): string => `${schema}.changes`

// The first key of the migration's advisory lock ("WYMK" in ASCII). The second key is a hash of the
// schema name. The lock serializes migrations of one schema across every process on the server.
const migrationLockClass = 0x57594d4b

/**
 * The statements that create version 1 of the tables in `schema` (a quoted identifier).
 *
 * - `executions.insertion_order` breaks ties of `created_at` (an engine's clock, in milliseconds),
 *   so that `list` and `claim` return executions created in one millisecond in creation order.
 * - `owner` and `lease_expires_at` are both set or both NULL: every statement writes them together.
 * - The fill factor leaves room on each page, so that an append's update of `last_sequence` and
 *   `updated_at`, which touches no indexed column, can stay a HOT update without index writes.
 */
export const createTablesSql = (schema: string): ReadonlyArray<string> => [
  `CREATE TABLE ${schema}.executions (
    execution_id text PRIMARY KEY,
    insertion_order bigint GENERATED ALWAYS AS IDENTITY,
    workflow text NOT NULL,
    status text NOT NULL,
    payload text NOT NULL,
    result text,
    status_detail text,
    last_sequence integer NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    owner text,
    lease_expires_at bigint,
    epoch integer NOT NULL DEFAULT 0
  ) WITH (fillfactor = 80)`,
  // `list` by status, and `claim`, which scans the running executions oldest first.
  `CREATE INDEX executions_by_status ON ${schema}.executions (status, created_at, insertion_order)`,
  // `renew`, `release` and `claim` with `includeOwn` look executions up by owner.
  `CREATE INDEX executions_by_owner ON ${schema}.executions (owner) WHERE owner IS NOT NULL`,
  `CREATE TABLE ${schema}.events (
    execution_id text NOT NULL REFERENCES ${schema}.executions (execution_id),
    sequence integer NOT NULL,
    kind text NOT NULL,
    data text NOT NULL,
    recorded_at bigint NOT NULL,
    PRIMARY KEY (execution_id, sequence)
  )`
]

const openError = (cause: Error, hint: string) => new WorkflowError.JournalError({ operation: "open", cause, hint })

/**
 * Creates the schema and its tables when missing, and checks the recorded version otherwise.
 *
 * Runs in one transaction that first takes an advisory lock on the schema name, so that engines
 * starting at the same time create the tables once and the others wait, then find them. The
 * schema itself is created only when missing, so a user without CREATE on the database can use a
 * schema that an administrator made.
 */
export const migrate = (
  sql: SqlClient.SqlClient,
  schema: string
): Effect.Effect<void, SqlError | WorkflowError.JournalError> => {
  const quoted = quoteIdentifier(schema)
  return sql.withTransaction(
    Effect.gen(function*() {
      yield* sql.unsafe("SELECT pg_advisory_xact_lock($1, hashtext($2))", [migrationLockClass, schema])
      const [namespace] = yield* sql.unsafe<{ readonly found: boolean }>(
        "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1) AS found",
        [schema]
      )
      if (namespace?.found !== true) yield* sql.unsafe(`CREATE SCHEMA ${quoted}`)
      const [meta] = yield* sql.unsafe<{ readonly found: boolean }>(
        "SELECT to_regclass($1) IS NOT NULL AS found",
        [`${quoted}.meta`]
      )
      if (meta?.found !== true) {
        yield* sql.unsafe(`CREATE TABLE ${quoted}.meta (key text PRIMARY KEY, value text NOT NULL)`)
        for (const statement of createTablesSql(quoted)) yield* sql.unsafe(statement)
        yield* sql.unsafe(
          `INSERT INTO ${quoted}.meta (key, value) VALUES ('schema_version', $1)`,
          [String(schemaVersion)]
        )
        return
      }
      const [stored] = yield* sql.unsafe<{ readonly value: string }>(
        `SELECT value FROM ${quoted}.meta WHERE key = 'schema_version'`
      )
      yield* checkVersion(schema, stored?.value)
    })
  )
}

const checkVersion = (schema: string, stored: string | undefined): Effect.Effect<void, WorkflowError.JournalError> => {
  const version = Number(stored)
  if (stored === undefined || !Number.isSafeInteger(version) || version < 1) {
    return Effect.fail(openError(
      new Error(
        `The schema_version in "${schema}".meta is ${JSON.stringify(stored ?? null)}, which is not a positive integer`
      ),
      `The schema "${schema}" is damaged or was not created by @waymark/postgres. ` +
        `Pass another schema name in the \`schema\` option.`
    ))
  }
  if (version > schemaVersion) {
    return Effect.fail(openError(
      new Error(
        `The journal in schema "${schema}" has schema version ${version}, but this release of ` +
          `@waymark/postgres reads only up to version ${schemaVersion}`
      ),
      `A newer release of @waymark/postgres wrote this journal. Upgrade @waymark/postgres to open it.`
    ))
  }
  return Effect.void
}
