/**
 * The engine as a process of its own, so that the example can kill it with SIGKILL.
 *
 * It opens the journal (SQLite or Postgres), starts an engine on it (the engine resumes every unfinished
 * execution by itself), sends the request in `PAYMENT_REQUEST` when there is one, and waits until
 * the execution completes or fails. It prints one line per activity attempt.
 *
 * Environment variables:
 * - `WAYMARK_JOURNAL`: `sqlite` or `postgres`.
 * - `WAYMARK_JOURNAL_FILE`: path of the SQLite journal, with `WAYMARK_JOURNAL=sqlite`.
 * - `WAYMARK_POSTGRES_URL`, `WAYMARK_POSTGRES_SCHEMA`: the connection URL and the schema of the
 *   Postgres journal, with `WAYMARK_JOURNAL=postgres`.
 * - `ORDER_API_URL`, `PAYMENT_GATEWAY_URL`, `SHIPPING_API_URL`, `MAIL_SERVICE_URL`: service base URLs.
 * - `PAYMENT_REQUEST` (optional): a `ProcessPayment` request as JSON, to send.
 * - `PAYMENT_EXECUTION_ID` (optional): the execution to wait for when no request is sent.
 * - `ENGINE_LABEL` (optional): the prefix of each printed line. Default: `engine`.
 *
 * Exit code: 0 when the execution completed or failed, 1 when it was paused or parked, or when the
 * engine could not start.
 */
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import { type DurableExecutionJournal, WorkflowEngine } from "@waymark/runtime"
import { describeResult } from "./journal-report"
import { journalLayer, JournalSettingsConfig } from "./journal-settings"
import { PaymentServices, ProcessPayment, StepReporter, workflows } from "./workflow"

/** How often the process reads the execution's status while it waits. */
const POLL_INTERVAL = "50 millis"

const EngineConfig = Config.all({
  journal: JournalSettingsConfig,
  orderApiUrl: Config.NonEmptyString("ORDER_API_URL"),
  paymentGatewayUrl: Config.NonEmptyString("PAYMENT_GATEWAY_URL"),
  shippingApiUrl: Config.NonEmptyString("SHIPPING_API_URL"),
  mailServiceUrl: Config.NonEmptyString("MAIL_SERVICE_URL"),
  request: Config.option(Config.schema(Schema.fromJsonString(ProcessPayment), "PAYMENT_REQUEST")),
  executionId: Config.option(Config.NonEmptyString("PAYMENT_EXECUTION_ID")),
  label: Config.String("ENGINE_LABEL").pipe(Config.withDefault("engine"))
})

type EngineConfig = Config.Success<typeof EngineConfig>

const run = (config: EngineConfig) =>
  Effect.gen(function*() {
    const print = (line: string) => Effect.sync(() => console.log(`  [${config.label}] ${line}`))

    // A stable engine id lets the restarted process take back at once the executions that the
    // killed one held, instead of waiting for their leases to lapse.
    const engine = yield* WorkflowEngine.make(workflows, { engineId: "payment-example-engine" }).pipe(
      Effect.provideService(PaymentServices, config),
      Effect.provideService(StepReporter, print)
    )
    yield* print(`engine started (pid ${process.pid}); it resumes unfinished executions from the journal`)

    let executionId: string
    if (Option.isSome(config.request)) {
      yield* print(`sending ${config.request.value._tag} for order ${config.request.value.orderId}`)
      executionId = yield* engine.sendDiscard(config.request.value)
    } else if (Option.isSome(config.executionId)) {
      executionId = config.executionId.value
    } else {
      return yield* Effect.die(new Error(
        "Neither PAYMENT_REQUEST nor PAYMENT_EXECUTION_ID is set. Set PAYMENT_REQUEST to send a request, " +
          "or PAYMENT_EXECUTION_ID to wait for an execution the journal contains."
      ))
    }

    const record = yield* waitWhileRunning(engine, executionId)
    if (record === undefined) {
      yield* print(`execution ${executionId} not found in the journal`)
      return 1
    }
    if (record.status === "completed" || record.status === "failed") {
      yield* print(`execution ${executionId} ${record.status}: ${describeResult(record.result)}`)
      return 0
    }
    yield* print(`execution ${executionId} is ${record.status}: ${record.statusDetail ?? "no reason recorded"}`)
    return 1
  })

/** Reads the execution's status row every `POLL_INTERVAL` until its status is not `running`. */
const waitWhileRunning = (
  engine: WorkflowEngine.WorkflowEngine<(typeof workflows)[number]>,
  executionId: string
) =>
  Effect.gen(function*() {
    while (true) {
      const record: DurableExecutionJournal.ExecutionRecord | undefined = yield* engine.find(executionId)
      if (record === undefined || record.status !== "running") return record
      yield* Effect.sleep(POLL_INTERVAL)
    }
  })

const main = Effect.gen(function*() {
  const config = yield* EngineConfig
  // The engine shuts down when the scope closes, before the layer closes the journal.
  return yield* Effect.scoped(run(config)).pipe(
    Effect.provide(journalLayer(config.journal))
  )
}).pipe(
  // The runtime's info logs (execution started, engine shutting down) would crowd the step lines;
  // warnings and errors still print.
  Effect.provideService(References.MinimumLogLevel, "Warn")
)

// When the example's main process dies, its IPC channel to this process closes. Without a parent to
// report to, the engine exits. The channel is unreferenced, so it does not keep this process alive.
if (process.channel !== undefined) {
  process.channel.unref()
  process.once("disconnect", () => {
    console.error("The parent process is gone; stopping the engine.")
    process.exit(1)
  })
}

Effect.runPromiseExit(main).then((exit) => {
  if (Exit.isSuccess(exit)) {
    process.exitCode = exit.value
    return
  }
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isSome(error) && error.value instanceof Config.ConfigError) {
    console.error(
      `Missing or invalid environment variable: ${error.value.message}. ` +
        `The variables are listed at the top of src/engine-process.ts.`
    )
  } else {
    console.error(`The engine process failed:\n${Cause.pretty(exit.cause)}`)
  }
  process.exitCode = 1
})
