/**
 * Compares the cost of one journal `append` (one event, with a lease, as an engine writes after an
 * activity) with one plain INSERT and commit of a row of the same size, through the same driver.
 *
 * Each side runs in a closed loop at concurrency 1 on a pool of one connection: 1 second of warm-up,
 * then 5 seconds measured. The measured time is cut into slices of 1 second that alternate between
 * plain and append, so that load from other processes on the machine affects both sides alike.
 * Both sides commit with the server's `synchronous_commit` setting, which is printed.
 *
 * Run from packages/postgres: `pnpm bench:append` (or `npx tsx scripts/bench-append.ts`). The server
 * is DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres. Everything is written to a new
 * schema `waymark_bench_<random>`, dropped at the end.
 */
import { PgClient } from "@effect/sql-pg"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Reactivity from "effect/reactivity/Reactivity"
import { randomBytes } from "node:crypto"
import * as os from "node:os"
import { PostgresJournal } from "../src/index"
import { makeCountingJournal } from "../test/roundTrips"

const url = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres"
const schema = `waymark_bench_${randomBytes(6).toString("hex")}`
const warmupMillis = 1_000
const sliceMillis = 1_000
const slices = 5
// A new execution after this many events, like workflows with 50 activities each.
const eventsPerExecution = 50

// An encoded ActivityCompleted event of about 170 bytes. With the ids and numbers, the row is about
// 250 bytes (the script prints its pg_column_size).
const eventData = JSON.stringify({
  _tag: "ActivityCompleted",
  name: "charge-card",
  attempt: 1,
  result: { _tag: "Success", value: { chargeId: "ch_3NqF2kLkdIwHu7ix0aBc1234", amount: 4200, currency: "EUR" } }
})

interface Sample {
  readonly operations: number
  readonly meanMicros: number
  readonly p50Micros: number
  readonly p99Micros: number
}

const summarize = (latencies: Array<number>): Sample => {
  const sorted = [...latencies].sort((a, b) => a - b)
  const mean = latencies.reduce((sum, value) => sum + value, 0) / latencies.length
  return {
    operations: latencies.length,
    meanMicros: mean,
    p50Micros: sorted[Math.floor(sorted.length * 0.5)]!,
    p99Micros: sorted[Math.floor(sorted.length * 0.99)]!
  }
}

/** Runs `operation(i)` for i = 0, 1, ... until `millis` have passed; returns each call's latency in µs. */
const closedLoop = <E>(millis: number, start: number, operation: (index: number) => Effect.Effect<void, E>) =>
  Effect.gen(function*() {
    const latencies: Array<number> = []
    const deadline = performance.now() + millis
    let index = start
    while (performance.now() < deadline) {
      const begin = process.hrtime.bigint()
      yield* operation(index++)
      latencies.push(Number(process.hrtime.bigint() - begin) / 1_000)
    }
    return { latencies, next: index }
  })

const format = (sample: Sample) =>
  `${sample.operations} ops, mean ${sample.meanMicros.toFixed(0)} µs, p50 ${sample.p50Micros.toFixed(0)} µs, ` +
  `p99 ${sample.p99Micros.toFixed(0)} µs`

const program = Effect.gen(function*() {
  const admin = yield* PgClient.make({ url: Redacted.make(url), maxConnections: 1, applicationName: "waymark-bench" })
  yield* Effect.addFinalizer(() => Effect.orDie(admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)))

  const journal = yield* PostgresJournal.make({ url, schema, maxConnections: 1 })
  yield* admin.unsafe(
    `CREATE TABLE "${schema}".plain_events (
       execution_id text NOT NULL,
       sequence integer NOT NULL,
       kind text NOT NULL,
       data text NOT NULL,
       recorded_at bigint NOT NULL,
       PRIMARY KEY (execution_id, sequence)
     )`
  )
  const settings = yield* admin.unsafe<{ readonly name: string; readonly setting: string }>(
    `SELECT name, setting FROM pg_settings
     WHERE name IN ('server_version', 'synchronous_commit', 'fsync', 'wal_sync_method', 'full_page_writes')
     ORDER BY name`
  )
  const [rowSize] = yield* admin.unsafe<{ readonly bytes: number }>(
    "SELECT pg_column_size(ROW('order-000001'::text, 1::integer, 'ActivityCompleted'::text, $1::text, 0::bigint)) AS bytes",
    [eventData]
  )

  console.log(`Machine: ${os.cpus()[0]?.model ?? "unknown CPU"}, ${os.cpus().length} cores, Node ${process.version}`)
  console.log(`PostgreSQL: ${settings.map((row) => `${row.name}=${row.setting}`).join(", ")}`)
  console.log(`Event row: ${rowSize?.bytes} bytes (pg_column_size); data ${eventData.length} characters`)

  // The plain write: one INSERT, committed on its own.
  const insertPlain = (index: number) =>
    Effect.asVoid(admin.unsafe(
      `INSERT INTO "${schema}".plain_events (execution_id, sequence, kind, data, recorded_at)
       VALUES ($1, $2, 'ActivityCompleted', $3, $4)`,
      [`order-${Math.floor(index / eventsPerExecution)}`, (index % eventsPerExecution) + 1, eventData, Date.now()]
    ))

  // The journal write: one event appended under the engine's lease. The create that starts each
  // execution runs outside the measured call.
  const appendEvent = (index: number) =>
    Effect.gen(function*() {
      const executionId = `order-${Math.floor(index / eventsPerExecution)}`
      const position = index % eventsPerExecution
      if (position === 0) {
        yield* journal.create({
          executionId,
          workflow: "Payment",
          payload: "{\"orderId\":\"" + executionId + "\"}",
          first: { kind: "Started", data: "{\"_tag\":\"Started\"}", recordedAt: Date.now() },
          owner: { engineId: "bench-engine", leaseMs: 60_000 }
        })
      }
      const begin = process.hrtime.bigint()
      yield* journal.append({
        executionId,
        expectedSequence: position + 2,
        entries: [{ kind: "ActivityCompleted", data: eventData, recordedAt: Date.now() }],
        lease: { engineId: "bench-engine", epoch: 1 }
      })
      return Number(process.hrtime.bigint() - begin) / 1_000
    })

  // The create of each 50th iteration is not timed: appendEvent returns the append's own latency.
  const appendLoop = (millis: number, start: number) =>
    Effect.gen(function*() {
      const latencies: Array<number> = []
      const deadline = performance.now() + millis
      let index = start
      while (performance.now() < deadline) latencies.push(yield* appendEvent(index++))
      return { latencies, next: index }
    })

  let plainIndex = 0
  let appendIndex = 0
  plainIndex = (yield* closedLoop(warmupMillis, plainIndex, insertPlain)).next
  appendIndex = (yield* appendLoop(warmupMillis, appendIndex)).next
  // Start the measured appends on a fresh execution, after the warm-up's.
  appendIndex = Math.ceil(appendIndex / eventsPerExecution) * eventsPerExecution
  plainIndex = Math.ceil(plainIndex / eventsPerExecution) * eventsPerExecution

  const plainLatencies: Array<number> = []
  const appendLatencies: Array<number> = []
  const sliceRatios: Array<number> = []
  for (let slice = 1; slice <= slices; slice++) {
    const plain = yield* closedLoop(sliceMillis, plainIndex, insertPlain)
    plainIndex = plain.next
    const append = yield* appendLoop(sliceMillis, appendIndex)
    appendIndex = append.next
    plainLatencies.push(...plain.latencies)
    appendLatencies.push(...append.latencies)
    const ratio = summarize(append.latencies).meanMicros / summarize(plain.latencies).meanMicros
    sliceRatios.push(ratio)
    console.log(
      `Slice ${slice}: plain INSERT mean ${summarize(plain.latencies).meanMicros.toFixed(0)} µs, ` +
        `append mean ${summarize(append.latencies).meanMicros.toFixed(0)} µs, ratio ${ratio.toFixed(2)}`
    )
  }

  const plain = summarize(plainLatencies)
  const append = summarize(appendLatencies)
  console.log(`All slices: plain INSERT ${format(plain)}`)
  console.log(`All slices: append       ${format(append)}`)
  console.log(`Ratio of means (append / plain INSERT): ${(append.meanMicros / plain.meanMicros).toFixed(2)}`)
  const sortedRatios = [...sliceRatios].sort((a, b) => a - b)
  console.log(`Median of the slices' ratios: ${sortedRatios[Math.floor(sortedRatios.length / 2)]!.toFixed(2)}`)

  // Round trips: socket writes during one call, on a journal with one counted connection.
  const counting = yield* makeCountingJournal(url, schema)
  yield* counting.journal.create({
    executionId: "round-trips",
    workflow: "Payment",
    payload: "{}",
    first: { kind: "Started", data: "{}", recordedAt: Date.now() },
    owner: { engineId: "bench-engine", leaseMs: 60_000 }
  })
  const before = counting.writes()
  yield* counting.journal.append({
    executionId: "round-trips",
    expectedSequence: 2,
    entries: [{ kind: "ActivityCompleted", data: eventData, recordedAt: Date.now() }],
    lease: { engineId: "bench-engine", epoch: 1 }
  })
  console.log(`Round trips per append: ${counting.writes() - before}`)
})

Effect.runPromise(Effect.scoped(program).pipe(Effect.provideServiceEffect(Reactivity.Reactivity, Reactivity.make)))
  .catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
