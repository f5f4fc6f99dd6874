/**
 * Runs the journal conformance suite on every backend: in memory, SQLite in a fresh temporary file
 * per test, and Postgres in a fresh schema per test. The Postgres suite is skipped when the server
 * is not reachable, unless `WAYMARK_REQUIRE_POSTGRES=1` makes that a failure.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { type DurableExecutionJournal, InMemoryJournal } from "@waymark/runtime"
import { PostgresJournal } from "@waymark/postgres"
import { SqliteJournal } from "@waymark/sqlite"
import { databaseUrl, describePostgres, makeTestSchemaName } from "../support/postgres"
import { conformance } from "./conformance"

type Journal = DurableExecutionJournal.Journal

const execFileAsync = promisify(execFile)

/** A SQLite journal in a new temporary folder, removed with the folder when the scope closes. */
const makeSqliteJournal = (): Effect.Effect<Journal, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const folder = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "waymark-conformance-"))),
      (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
    )
    return yield* SqliteJournal.make({ filename: join(folder, "journal.sqlite") })
  })

/**
 * Drops `schema` and everything in it with psql, because the test package does not depend on a
 * Postgres driver. A failed DROP is a defect, so the test fails rather than leave the schema behind.
 */
const dropSchema = (schema: string): Effect.Effect<void> =>
  Effect.tryPromise(() => {
    const statement = `DROP SCHEMA IF EXISTS "${schema}" CASCADE`
    return execFileAsync("psql", [databaseUrl, "-q", "-v", "ON_ERROR_STOP=1", "-c", statement])
  }).pipe(Effect.asVoid, Effect.orDie)

/**
 * A Postgres journal in a new schema `waymark_test_*`, which the journal creates on open and which
 * is dropped when the scope closes, after the journal's connections are closed.
 */
const makePostgresJournal = (): Effect.Effect<Journal, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const schema = yield* Effect.acquireRelease(Effect.sync(makeTestSchemaName), dropSchema)
    return yield* PostgresJournal.make({ url: databaseUrl, schema })
  })

conformance({ name: "in-memory", make: () => Effect.sync(InMemoryJournal.make) })
conformance({ name: "sqlite", make: makeSqliteJournal })
describePostgres("Postgres", () => conformance({ name: "postgres", make: makePostgresJournal }))
