/**
 * An engine process for crash tests. It runs the `Fulfil` workflow on a SQLite journal, kills
 * itself with SIGKILL at the fault point named by WAYMARK_KILL_AT, and exits 0 once the execution
 * of WAYMARK_ORDER has completed.
 *
 * Environment: WAYMARK_DB (journal file), WAYMARK_EFFECTS (file where activities append one line
 * per run), WAYMARK_ORDER (order id), WAYMARK_SEND ("1" to send the request), WAYMARK_KILL_AT
 * (a fault point name, see FaultInjection.names).
 */
import { appendFileSync } from "node:fs"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import { Activity, FaultInjection, Workflow, WorkflowEngine, WorkflowRequest } from "@waymark/runtime"
import { SqliteJournal } from "@waymark/sqlite"

const env = (name: string): string => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`Missing environment variable ${name}`)
  return value
}

class Fulfil extends WorkflowRequest<Fulfil>()("Fulfil", {
  payload: { orderId: Schema.String },
  success: Schema.String
}) {}

/** An activity whose side effect is one line in the effects file: name, attempt, persistence id. */
const sideEffect = (name: string) =>
  Effect.gen(function*() {
    const key = yield* Activity.persistenceId
    const attempt = yield* Activity.currentAttempt
    appendFileSync(env("WAYMARK_EFFECTS"), `${name} ${attempt} ${key}\n`)
    return `${name}-done`
  }).pipe(Activity.make(name, Schema.String, Schema.Never, { retry: Activity.defaultRetrySchedule }))

const fulfil = Workflow.make(Fulfil, (request) => `Fulfil@${request.orderId}`, () =>
  Effect.gen(function*() {
    yield* sideEffect("reserve")
    yield* sideEffect("charge")
    const [label, mail] = yield* Effect.all([sideEffect("label"), sideEffect("mail")], { concurrency: "unbounded" })
    return `${label}/${mail}`
  }))

const killAt = process.env.WAYMARK_KILL_AT
const faults = (point: FaultInjection.FaultPoint) =>
  Effect.sync(() => {
    if (killAt !== undefined && FaultInjection.names(point).includes(killAt)) process.kill(process.pid, "SIGKILL")
  })

const main = Effect.gen(function*() {
  // The same engine id in every child: a restarted child takes back the killed one's executions at
  // once instead of waiting for their leases to lapse.
  const engine = yield* WorkflowEngine.make(Workflow.union(fulfil), { engineId: "crash-test-engine" })
  const orderId = env("WAYMARK_ORDER")
  if (process.env.WAYMARK_SEND === "1") yield* engine.sendDiscard(new Fulfil({ orderId }))
  while ((yield* engine.find(`Fulfil@${orderId}`))?.status !== "completed") yield* Effect.sleep("20 millis")
}).pipe(
  Effect.scoped,
  Effect.provide(SqliteJournal.layer({ filename: env("WAYMARK_DB") })),
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
