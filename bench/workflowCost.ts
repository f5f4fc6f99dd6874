/**
 * Measures what a workflow's activities cost against the physical floor of the backend: one plain
 * insert-and-commit of a journal-sized row, measured in the same run on the same database.
 *
 * For each backend it runs, in a closed loop for `--seconds` each:
 * - the floor: one INSERT of a 200-byte row, committed (Postgres through @effect/sql-pg, the
 *   driver of the Postgres journal; SQLite through better-sqlite3 in WAL mode with synchronous=FULL);
 * - a payment-shaped workflow of `--activities` no-op activities, started and awaited with `send`;
 * - the same workflow with twice as many activities, to separate the cost of one more activity from
 *   the fixed cost of starting and completing a workflow.
 *
 * Usage: pnpm bench [--seconds 5] [--activities 5] [--concurrency 1,16] [--backend postgres,sqlite]
 * Postgres: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres. The run creates and drops
 * schemas named waymark_bench_*.
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { PgClient } from "@effect/sql-pg"
import { Activity, type DurableExecutionJournal, Workflow, WorkflowEngine, WorkflowRequest } from "@waymark/runtime"
import { PostgresJournal } from "@waymark/postgres"
import { SqliteJournal } from "@waymark/sqlite"
import Database from "better-sqlite3"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    activities: { type: "string", default: "5" },
    concurrency: { type: "string", default: "1,16" },
    backend: { type: "string", default: "postgres,sqlite" }
  }
})
const seconds = Number(values.seconds)
const activities = Number(values.activities)
const concurrencies = values.concurrency.split(",").map(Number)
const backends = values.backend.split(",")
const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres"
const row = "x".repeat(200)

interface Measurement {
  readonly operations: number
  readonly seconds: number
  readonly latencies: Array<number>
}

/** Runs `operation` in `concurrency` closed loops for `seconds`, recording each latency in ms. */
const closedLoop = <E, R>(
  concurrency: number,
  operation: (worker: number, index: number) => Effect.Effect<unknown, E, R>
): Effect.Effect<Measurement, E, R> =>
  Effect.gen(function*() {
    const latencies: Array<number> = []
    const started = performance.now()
    const deadline = started + seconds * 1_000
    yield* Effect.forEach(
      Array.from({ length: concurrency }, (_, worker) => worker),
      (worker) =>
        Effect.gen(function*() {
          for (let index = 0; performance.now() < deadline; index++) {
            const before = performance.now()
            yield* operation(worker, index)
            latencies.push(performance.now() - before)
          }
        }),
      { concurrency: "unbounded", discard: true }
    )
    return { operations: latencies.length, seconds: (performance.now() - started) / 1_000, latencies }
  })

const percentile = (sorted: ReadonlyArray<number>, fraction: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN

const summarize = (measurement: Measurement) => {
  const sorted = [...measurement.latencies].sort((a, b) => a - b)
  const mean = sorted.reduce((sum, latency) => sum + latency, 0) / Math.max(1, sorted.length)
  return {
    perSecond: measurement.operations / measurement.seconds,
    mean,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99)
  }
}

class Bench extends WorkflowRequest<Bench>()("Bench", {
  payload: { id: Schema.String, steps: Schema.Number },
  success: Schema.Number
}) {}

// A payment-shaped workflow: a chain of activities that do nothing but pass a small value on.
const noOp = (index: number) => Effect.succeed(index).pipe(Activity.make(`step-${index}`, Schema.Number))
const bench = Workflow.make(Bench, (request) => `Bench@${request.id}`, ({ steps }) =>
  Effect.gen(function*() {
    let total = 0
    for (let index = 1; index <= steps; index++) total += yield* noOp(index)
    return total
  }))

/** Sends workflows of `steps` activities in closed loops on the journal. */
const measureWorkflows = (
  journal: Layer.Layer<DurableExecutionJournal.DurableExecutionJournal, unknown>,
  steps: number,
  concurrency: number
) =>
  Effect.gen(function*() {
    const engine = yield* WorkflowEngine.make(Workflow.union(bench), { gracePeriod: 0 })
    const run = randomBytes(4).toString("hex")
    return yield* closedLoop(concurrency, (worker, index) =>
      engine.send(new Bench({ id: `${run}-${steps}-${worker}-${index}`, steps })))
  }).pipe(Effect.scoped, Effect.provide(journal))

const pgClient = PgClient.make({ url: Redacted.make(databaseUrl), maxConnections: 32 }).pipe(
  Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make)
)

/** One INSERT of a 200-byte row per operation, each its own committed transaction. */
const postgresFloor = (concurrency: number): Effect.Effect<Measurement, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const sql = yield* pgClient
    const schema = `waymark_bench_${randomBytes(4).toString("hex")}`
    yield* sql.unsafe(`CREATE SCHEMA ${schema}`)
    yield* Effect.addFinalizer(() => Effect.ignore(sql.unsafe(`DROP SCHEMA ${schema} CASCADE`)))
    yield* sql.unsafe(`CREATE TABLE ${schema}.floor (id bigserial PRIMARY KEY, data text NOT NULL)`)
    return yield* closedLoop(concurrency, () => sql.unsafe(`INSERT INTO ${schema}.floor (data) VALUES ($1)`, [row]))
  })

/** One INSERT of a 200-byte row per operation in WAL mode with synchronous=FULL. */
const sqliteFloor = (): Effect.Effect<Measurement, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const folder = mkdtempSync(join(tmpdir(), "waymark-bench-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(folder, { recursive: true, force: true })))
    const database = new Database(join(folder, "floor.sqlite"))
    yield* Effect.addFinalizer(() => Effect.sync(() => database.close()))
    database.pragma("journal_mode = WAL")
    database.pragma("synchronous = FULL")
    database.exec("CREATE TABLE floor (id INTEGER PRIMARY KEY, data TEXT NOT NULL)")
    const insert = database.prepare("INSERT INTO floor (data) VALUES (?)")
    return yield* closedLoop(1, () => Effect.sync(() => insert.run(row)))
  })

const postgresJournal = Effect.gen(function*() {
  const sql = yield* pgClient
  const schema = `waymark_bench_${randomBytes(4).toString("hex")}`
  yield* Effect.addFinalizer(() => Effect.ignore(sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)))
  return PostgresJournal.layer({ url: databaseUrl, schema, maxConnections: 32 })
})

const sqliteJournal = Effect.gen(function*() {
  const folder = mkdtempSync(join(tmpdir(), "waymark-bench-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(folder, { recursive: true, force: true })))
  return SqliteJournal.layer({ filename: join(folder, "journal.sqlite") })
})

const rows: Array<string> = []
const report = (backend: string, concurrency: number, operation: string, measurement: Measurement) => {
  const { perSecond, mean, p50, p99 } = summarize(measurement)
  rows.push(
    `| ${backend} | ${concurrency} | ${operation} | ${perSecond.toFixed(0)} | ${mean.toFixed(2)} | ${p50.toFixed(2)} | ` +
      `${p99.toFixed(2)} |`
  )
  return mean
}

const ratios: Array<string> = []

const main = Effect.gen(function*() {
  for (const backend of backends) {
    const journalLayer = backend === "postgres" ? yield* postgresJournal : yield* sqliteJournal
    for (const concurrency of backend === "sqlite" ? [1] : concurrencies) {
      const floor = backend === "postgres" ? yield* postgresFloor(concurrency) : yield* sqliteFloor()
      const floorMean = report(backend, concurrency, "insert + commit (floor)", floor)
      const short = yield* measureWorkflows(journalLayer, activities, concurrency)
      const shortMean = report(backend, concurrency, `workflow of ${activities} activities`, short)
      const long = yield* measureWorkflows(journalLayer, activities * 2, concurrency)
      const longMean = report(backend, concurrency, `workflow of ${activities * 2} activities`, long)
      const perActivity = shortMean / activities
      const marginal = (longMean - shortMean) / activities
      ratios.push(
        `| ${backend} | ${concurrency} | ${floorMean.toFixed(3)} | ${perActivity.toFixed(3)} | ` +
          `${(perActivity / floorMean).toFixed(2)}x | ${marginal.toFixed(3)} | ${(marginal / floorMean).toFixed(2)}x |`
      )
    }
  }
  console.log(`Machine: ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`)
  console.log(`Each figure: closed loop for ${seconds} s.\n`)
  console.log("| backend | concurrency | operation | per second | mean ms | p50 ms | p99 ms |")
  console.log("| --- | --- | --- | --- | --- | --- | --- |")
  for (const line of rows) console.log(line)
  console.log("\nCost per activity against the floor (mean latencies):\n")
  console.log(
    "| backend | concurrency | floor ms | workflow / activities, ms | ratio | one more activity, ms | ratio |"
  )
  console.log("| --- | --- | --- | --- | --- | --- | --- |")
  for (const line of ratios) console.log(line)
}).pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "None"))

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exit(1)
})
