/**
 * An engine process for multi-engine tests on Postgres. Several of these share one journal schema.
 *
 * Environment:
 * - WAYMARK_DB_URL, WAYMARK_SCHEMA: the journal.
 * - WAYMARK_ENGINE_ID: this engine's id (each process has its own).
 * - WAYMARK_EFFECTS: a file where activities append one line per run: name, attempt, persistence
 *   id, engine id.
 * - WAYMARK_SEND: order ids to send, separated by commas (optional).
 * - WAYMARK_KILL_AT: a fault point name at which the process kills itself with SIGKILL (optional).
 * - WAYMARK_EXPECT: the process exits 0 once this many executions have completed.
 */
import { appendFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import { Activity, FaultInjection, Workflow, WorkflowEngine, WorkflowRequest } from "@waymark/runtime"
import { PostgresJournal } from "@waymark/postgres"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`Missing environment variable ${name}`)
  return value
}

const engineId = env("WAYMARK_ENGINE_ID")

class Fulfil extends WorkflowRequest<Fulfil>()("Fulfil", {
  payload: { orderId: Schema.String },
  success: Schema.String
}) {}

/** An activity whose side effect is one line in the effects file. */
const sideEffect = (name: string, millis: number) =>
  Effect.gen(function*() {
    const key = yield* Activity.persistenceId
    const attempt = yield* Activity.currentAttempt
    yield* Effect.sleep(`${millis} millis`)
    appendFileSync(env("WAYMARK_EFFECTS"), `${name} ${attempt} ${key} ${engineId}\n`)
    return `${name}-done`
  }).pipe(Activity.make(name, Schema.String))

const fulfil = Workflow.make(Fulfil, (request) => `Fulfil@${request.orderId}`, () =>
  Effect.gen(function*() {
    yield* sideEffect("reserve", 20)
    yield* sideEffect("charge", 150)
    return yield* sideEffect("ship", 20)
  }))

const killAt = process.env.WAYMARK_KILL_AT
const faults = (point: FaultInjection.FaultPoint) =>
  Effect.sync(() => {
    if (killAt !== undefined && FaultInjection.names(point).includes(killAt)) process.kill(process.pid, "SIGKILL")
  })

const main = Effect.gen(function*() {
  const engine = yield* WorkflowEngine.make(Workflow.union(fulfil), {
    engineId,
    leaseDuration: "1 second",
    pollInterval: "100 millis",
    gracePeriod: "1 second"
  })
  const orders = (process.env.WAYMARK_SEND ?? "").split(",").filter((id) => id.length > 0)
  yield* Effect.forEach(orders, (orderId) => engine.sendDiscard(new Fulfil({ orderId })), { concurrency: "unbounded" })
  const expected = Number(env("WAYMARK_EXPECT"))
  // The journal may be unreachable for a while (the outage test): keep polling through it.
  const completed = engine.list({ status: ["completed"] }).pipe(
    Effect.map((records) => records.length),
    Effect.orElseSucceed(() => 0)
  )
  while ((yield* completed) < expected) yield* Effect.sleep("50 millis")
}).pipe(
  Effect.scoped,
  Effect.provide(PostgresJournal.layer({ url: env("WAYMARK_DB_URL"), schema: env("WAYMARK_SCHEMA") })),
  Effect.provideService(FaultInjection.FaultInjection, faults),
  Effect.provideService(References.MinimumLogLevel, "Warn")
)

Effect.runPromise(main).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
