/**
 * Helpers for tests that need a PostgreSQL server: its URL, a reachability check, `describePostgres`
 * (run a suite only when the server responds) and one throwaway schema per test.
 *
 * The server is `DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`. Without a
 * server, Postgres suites are skipped, unless `WAYMARK_REQUIRE_POSTGRES=1` (set in CI) makes them
 * fail instead.
 *
 * This file imports no Postgres driver, because the `test` package does not depend on one. The
 * schema helper runs its DROP through the `SqlClient` that the test provides, for example a
 * `PgClient` layer from @effect/sql-pg.
 */
import { randomBytes } from "node:crypto"
import * as net from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as SqlClient from "effect/sql/SqlClient"
import { describe, it } from "vitest"

/** The server the Postgres tests use. */
export const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres"

/** Whether the Postgres tests must fail, rather than be skipped, when the server is not reachable. */
export const postgresRequired = process.env.WAYMARK_REQUIRE_POSTGRES === "1"

interface SocketAddress {
  readonly host?: string
  readonly port?: number
  readonly path?: string
}

// Where a libpq-style URL points: a TCP host and port, or a Unix socket when the host is a folder.
const addressOf = (url: string): SocketAddress => {
  const parsed = new URL(url)
  const host = parsed.searchParams.get("host") ?? (parsed.hostname.replace(/^\[|\]$/g, "") || "localhost")
  const port = Number(parsed.searchParams.get("port") ?? (parsed.port || 5432))
  return host.startsWith("/") ? { path: `${host}/.s.PGSQL.${port}` } : { host, port }
}

// The SSLRequest message: length 8, then the request code 80877103. A PostgreSQL server replies
// with one byte, "S" or "N", before any authentication.
const sslRequest = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])

/**
 * Resolves to `true` when a PostgreSQL server replies at `url` within `timeoutMs`. It sends an
 * SSLRequest and reads the one-byte reply, so it needs no credentials. A wrong password or a
 * missing database still shows up later, as a failing test.
 */
export const isPostgresReachable = (url = databaseUrl, timeoutMs = 1_000): Promise<boolean> =>
  new Promise((resolve) => {
    let address: SocketAddress
    try {
      address = addressOf(url)
    } catch {
      return resolve(false)
    }
    const socket = address.path !== undefined
      ? net.connect({ path: address.path })
      : net.connect({ host: address.host!, port: address.port! })
    let finished = false
    const finish = (reachable: boolean) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      socket.destroy()
      resolve(reachable)
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.once("connect", () => socket.write(sslRequest))
    socket.once("data", (chunk: Buffer) => finish(chunk[0] === 0x53 || chunk[0] === 0x4e))
    socket.once("error", () => finish(false))
    socket.once("close", () => finish(false))
  })

const redactedUrl = (() => {
  try {
    const parsed = new URL(databaseUrl)
    if (parsed.password !== "") parsed.password = "***"
    return parsed.toString()
  } catch {
    return databaseUrl
  }
})()

/** Whether the server replied when this module was loaded. */
export const postgresReachable = await isPostgresReachable()

const unreachableMessage = `Postgres not reachable at ${redactedUrl}: start it (pg_ctlcluster 15 main start) or set DATABASE_URL`

/**
 * Registers the suite `name` when the server is reachable. Otherwise it registers the suite as
 * skipped, with the reason in its name, or, when `WAYMARK_REQUIRE_POSTGRES=1`, as one failing test.
 */
export const describePostgres = (name: string, suite: () => void): void => {
  if (postgresReachable) {
    describe(name, suite)
  } else if (postgresRequired) {
    describe(name, () => {
      it("reaches the Postgres server", () => {
        throw new Error(`${unreachableMessage}. WAYMARK_REQUIRE_POSTGRES=1 makes this a failure.`)
      })
    })
  } else {
    describe.skip(`${name} (skipped: ${unreachableMessage})`, suite)
  }
}

/** Returns a new schema name, `waymark_test_` and 12 random hex digits. */
export const makeTestSchemaName = (): string => `waymark_test_${randomBytes(6).toString("hex")}`

/**
 * Returns a new schema name, and drops that schema (with everything in it) when the scope closes.
 * The schema itself is not created here: the journal creates it on open. A DROP that fails is a
 * defect, so the test fails rather than leave the schema behind.
 */
export const scopedTestSchema: Effect.Effect<string, never, SqlClient.SqlClient | Scope.Scope> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const schema = makeTestSchemaName()
    yield* Effect.addFinalizer(() => Effect.orDie(sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)))
    return schema
  }
)
