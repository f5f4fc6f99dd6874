/**
 * Runs the example with `--journal postgres` (`tsx src/main.ts`), each run on a schema of its own,
 * and checks its exit code, its output and the rows the engines wrote to that schema.
 */
import { PgClient } from "@effect/sql-pg"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as SqlClient from "effect/sql/SqlClient"
import { describe, expect, it } from "vitest"
import { databaseUrl, describePostgres, scopedTestSchema } from "../../../test/support/postgres"
import { countMatches, type RunResult, runExample } from "./run-example"

// A connection of the test's own, to count the journal's rows and drop the test schemas.
const adminLayer = PgClient.layer({ url: Redacted.make(databaseUrl), applicationName: "waymark-test-admin" })

const run = <A, E>(effect: Effect.Effect<A, E, Scope.Scope | SqlClient.SqlClient>): Promise<A> =>
  Effect.runPromise(Effect.scoped(effect).pipe(Effect.provide(adminLayer)))

/** The number of journal events of all executions in `schema`. */
const countEvents = (schema: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ readonly count: number }>(`SELECT count(*)::int AS count FROM "${schema}".events`)
    return rows[0]?.count
  })

interface PostgresRun extends RunResult {
  readonly schema: string
  /** The rows in the schema's events table after the run. */
  readonly events: number | undefined
}

/**
 * Runs the example `times` times with `--journal postgres` and `args`, all on one new schema, which
 * is dropped before this returns. Returns the last run and the rows it left.
 */
const runOnNewSchema = (args: ReadonlyArray<string>, times = 1): Promise<PostgresRun> =>
  run(Effect.gen(function*() {
    const schema = yield* scopedTestSchema
    let result: RunResult | undefined
    for (let i = 0; i < times; i++) {
      result = yield* Effect.promise(() => runExample([...args, "--journal", "postgres", "--schema", schema]))
    }
    const events = yield* countEvents(schema)
    return { ...result!, schema, events }
  }))

describePostgres("payment example on Postgres", () => {
  it("kill-after-charge charges the card once", async () => {
    const { code, events, output, schema } = await runOnNewSchema([])

    expect(output).toMatch(new RegExp(`^Journal: PostgreSQL at postgres://\\S+, schema ${schema}$`, "m"))
    expect(output).toContain("[main] killed engine 1")
    expect(countMatches(output, /\[gateway\] recorded charge/g)).toBe(1)
    expect(output).toContain("[gateway] repeated charge request (same idempotency key)")
    expect(output).toContain("[engine 2] charge-credit-card, attempt 2")
    expect(output).toMatch(/\[engine 2\] execution ProcessPayment@order-1001 completed: success true/)
    expect(output).toMatch(/ActivityAttemptFailed\s+charge-credit-card\s+1\s+the engine stopped during the attempt/)
    expect(output).toContain("ok    charges: 1, expected 1")
    expect(output).toContain("ok    execution status: completed, expected completed")
    expect(output).not.toContain("FAIL")
    expect(code).toBe(0)
    // Started, 5 activities of 2 events each, the attempt cut short by the kill (2 events), Completed.
    expect(events).toBe(14)
  })

  it("out-of-stock refunds the charge", async () => {
    const { code, events, output } = await runOnNewSchema(["--scenario", "out-of-stock"])

    expect(output).not.toContain("killed engine")
    expect(output).toMatch(/ActivityCompleted\s+create-shipping-tracking-code\s+1\s+failure OutOfStock/)
    expect(output).toMatch(/ActivityCompleted\s+refund-credit-card\s+1\s+success/)
    expect(output).toMatch(/re_0001\s+129\.90\s+of ch_0001/)
    expect(output).toContain("ok    charges: 1, expected 1")
    expect(output).toContain("ok    refunds: 1, expected 1")
    expect(output).toContain("ok    workflow result: false, expected false")
    expect(output).not.toContain("FAIL")
    expect(code).toBe(0)
    // Started, 4 activities of 2 events each, Completed.
    expect(events).toBe(10)
  })

  it("second run starts from an empty schema", async () => {
    const { code, events, output } = await runOnNewSchema(["--scenario", "out-of-stock"], 2)

    expect(output).toContain("ok    charges: 1, expected 1")
    expect(output).not.toContain("FAIL")
    expect(code).toBe(0)
    expect(events).toBe(10)
  })
})

describe("payment example without a Postgres server", () => {
  it("unreachable server exits with code 1", async () => {
    // Port 1 is privileged and normally unused, so the connection is refused at once.
    const { code, output } = await runExample(["--journal", "postgres"], {
      DATABASE_URL: "postgres://postgres:secret-password@127.0.0.1:1/postgres"
    })

    expect(output).toMatch(
      /^Cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres .*$/m
    )
    expect(output).toMatch(/^Cannot connect .*pg_ctlcluster 15 main start.*DATABASE_URL/m)
    expect(output).not.toContain("secret-password")
    expect(output).not.toContain("[engine 1]")
    expect(code).toBe(1)
  })
})
