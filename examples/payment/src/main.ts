/**
 * Runs the payment example: starts the services in this process and runs the engine in a child
 * process on an emptied journal. The journal is an SQLite file, or a PostgreSQL schema with
 * `--journal postgres`. At the end, prints the journal and what each service recorded, and checks
 * them.
 *
 * Usage: tsx src/main.ts [--scenario kill-after-charge | out-of-stock | card-declined]
 *                        [--journal sqlite | postgres] [--schema NAME]
 *
 * Exit code: 0 when every check passed (or for --help), 1 when one failed or the journal could not
 * be emptied, 2 for invalid arguments.
 */
import * as Option from "effect/Option"
import { type Arguments, parseArguments } from "./arguments"
import { type EngineChild, type EngineChildOptions, type EngineExit, spawnEngine, waitForExit } from "./engine-child"
import { type ExecutionReport, formatJournal, readExecution, successValue } from "./journal-report"
import { describeJournal, JournalResetError, resetJournal } from "./journal-settings"
import { DECLINED_CARD, type Scenario } from "./scenarios"
import type { RunningServer } from "./services/http"
import { type MailService, startMailService } from "./services/mail-service"
import { type OrderApi, startOrderApi } from "./services/order-api"
import { type Charge, type PaymentGateway, startPaymentGateway } from "./services/payment-gateway"
import { type ShippingApi, startShippingApi } from "./services/shipping-api"
import { formatAmount, processPayment, ProcessPayment } from "./workflow"

/** How long one engine process may run before the example gives up on it. */
const ENGINE_TIMEOUT_MILLIS = 15_000

const ORDER_ID = "order-1001"

const section = (title: string) => console.log(`\n${title}`)
const line = (text: string) => console.log(`  ${text}`)

interface Services {
  readonly orderApi: OrderApi
  readonly gateway: PaymentGateway
  readonly shipping: ShippingApi
  readonly mail: MailService
}

/** Starts the four services. If one fails to start, closes those already started. */
const startServices = async (scenario: Scenario, onCharge: (charge: Charge) => Promise<void>): Promise<Services> => {
  const started: Array<RunningServer> = []
  const track = <S extends RunningServer>(server: S): S => {
    started.push(server)
    return server
  }
  try {
    const orderApi = track(await startOrderApi({ [ORDER_ID]: { amount: 12_990 } }))
    const gateway = track(
      await startPaymentGateway({
        declinedCards: [DECLINED_CARD],
        onCharge,
        onReplay: (replay) =>
          line(
            `[gateway] repeated ${replay.operation} request (same idempotency key): returned the first response, ` +
              `${replay.operation === "charge" ? "charged" : "refunded"} nothing`
          )
      })
    )
    const shipping = track(await startShippingApi({ outOfStock: scenario.outOfStock }))
    const mail = track(await startMailService())
    return { orderApi, gateway, shipping, mail }
  } catch (error) {
    await closeServices(started)
    throw error
  }
}

const closeServices = (servers: ReadonlyArray<RunningServer>) => Promise.all(servers.map((server) => server.close()))

const printRecords = (services: Services) => {
  const { gateway, orderApi, shipping, mail } = services

  section("Payment gateway record")
  line(`charges: ${gateway.charges.length}`)
  for (const charge of gateway.charges) {
    line(
      `  ${charge.chargeId}  ${formatAmount(charge.amount)}  card ending in ${charge.cardLast4}  ` +
        `key ${charge.idempotencyKey}`
    )
  }
  line(`refunds: ${gateway.refunds.length}`)
  for (const refund of gateway.refunds) {
    line(`  ${refund.refundId}  ${formatAmount(refund.amount)}  of ${refund.chargeId}  key ${refund.idempotencyKey}`)
  }
  line(`requests with a known idempotency key (nothing new charged or refunded): ${gateway.replays.length}`)

  section("Other services")
  line(`tracking codes issued: ${shipping.trackingCodes.length}, OutOfStock responses: ${shipping.outOfStockResponses()}`)
  line(`orders handed to shipping: ${orderApi.shipments.length}`)
  line(`mails sent: ${mail.mails.length}`)
}

/** The facts of one run, compared with the scenario's expectations. */
interface RunResult {
  readonly services: Services
  /** `undefined` unless the scenario kills the first engine. */
  readonly killedAfterCharge: boolean | undefined
  readonly finalEngine: { readonly label: string; readonly exit: EngineExit }
  readonly record: ExecutionReport["record"]
}

/** Prints one line per check and returns whether all of them passed. */
const checkRun = (scenario: Scenario, run: RunResult): boolean => {
  const { gateway, orderApi, shipping, mail } = run.services
  const { expected } = scenario
  const result = successValue(run.record?.result)
  const shownResult = Option.match(result, { onNone: () => "none", onSome: (value) => JSON.stringify(value) })
  const status = run.record?.status

  const checks: Array<readonly [string, boolean]> = []
  if (run.killedAfterCharge !== undefined) {
    checks.push(["engine 1 was killed with SIGKILL right after the charge", run.killedAfterCharge])
  }
  const { label, exit } = run.finalEngine
  checks.push(
    [`${label} exit: ${describeExit(exit)}, expected code 0`, exit.code === 0],
    [`charges: ${gateway.charges.length}, expected ${expected.charges}`, gateway.charges.length === expected.charges],
    [`refunds: ${gateway.refunds.length}, expected ${expected.refunds}`, gateway.refunds.length === expected.refunds],
    [
      `tracking codes: ${shipping.trackingCodes.length}, expected ${expected.trackingCodes}`,
      shipping.trackingCodes.length === expected.trackingCodes
    ],
    [
      `orders handed to shipping: ${orderApi.shipments.length}, expected ${expected.shipments}`,
      orderApi.shipments.length === expected.shipments
    ],
    [`mails: ${mail.mails.length}, expected ${expected.mails}`, mail.mails.length === expected.mails],
    [`execution status: ${status ?? "not found"}, expected completed`, status === "completed"],
    [
      `workflow result: ${shownResult}, expected ${expected.result}`,
      Option.isSome(result) && result.value === expected.result
    ]
  )

  section("Checks")
  for (const [description, passed] of checks) line(`${passed ? "ok  " : "FAIL"}  ${description}`)
  return checks.every(([, passed]) => passed)
}

const run = async ({ journal, scenario }: Arguments): Promise<boolean> => {
  console.log(`Waymark payment example, scenario "${scenario.name}"`)
  for (const text of scenario.description) console.log(text)
  console.log(`Journal: ${describeJournal(journal)}`)

  // Every run starts from an empty journal. Nothing is started yet, so a failure here ends the run.
  await resetJournal(journal)

  const request = new ProcessPayment({
    orderId: ORDER_ID,
    cardNumber: scenario.cardNumber,
    email: "ada@example.com",
    deliveryAddress: "12 Analytical Row, London"
  })
  const executionId = processPayment.executionId(request)

  // The first engine process, once it is spawned. The gateway's hook kills it after the charge.
  let firstEngine: EngineChild | undefined
  let killedAfterCharge = false

  const services = await startServices(scenario, async (charge) => {
    line(
      `[gateway] recorded charge ${charge.chargeId} of ${formatAmount(charge.amount)} ` +
        `(idempotency key ${charge.idempotencyKey})`
    )
    if (!scenario.killAfterCharge || killedAfterCharge || firstEngine === undefined) return
    killedAfterCharge = true
    firstEngine.process.kill("SIGKILL")
    await firstEngine.exited
    line(
      `[main] killed engine 1 (pid ${firstEngine.process.pid}) with SIGKILL right after the charge, ` +
        `before the gateway sent its response`
    )
  })
  const { orderApi, gateway, shipping, mail } = services

  try {
    section("Services (all on 127.0.0.1)")
    line(`order API        ${orderApi.url}`)
    line(`payment gateway  ${gateway.url}`)
    line(`shipping API     ${shipping.url}`)
    line(`mail service     ${mail.url}`)

    const engineOptions: Omit<EngineChildOptions, "label"> = {
      journal,
      orderApiUrl: orderApi.url,
      paymentGatewayUrl: gateway.url,
      shippingApiUrl: shipping.url,
      mailServiceUrl: mail.url
    }

    section("Engine 1: sends the request")
    firstEngine = spawnEngine({ ...engineOptions, label: "engine 1", request })
    const firstExit = await waitForExit(firstEngine, ENGINE_TIMEOUT_MILLIS)

    // The engine that finishes the execution: the second one when the first was killed.
    let finalEngine = { label: "engine 1", exit: firstExit }
    if (scenario.killAfterCharge) {
      section("Engine 2: a new process on the same journal; it does not send the request again")
      const secondEngine = spawnEngine({ ...engineOptions, label: "engine 2", executionId })
      finalEngine = { label: "engine 2", exit: await waitForExit(secondEngine, ENGINE_TIMEOUT_MILLIS) }
    }

    // Each engine process has exited, so this process is the only one with the journal open.
    const { record, events } = await readExecution(journal, executionId)
    section(`Journal of execution ${executionId}`)
    for (const text of formatJournal(events)) console.log(text)

    printRecords(services)

    const passed = checkRun(scenario, {
      services,
      killedAfterCharge: scenario.killAfterCharge ? killedAfterCharge && firstExit.signal === "SIGKILL" : undefined,
      finalEngine,
      record
    })
    console.log(passed ? "\nThe run is as expected." : "\nThe run is NOT as expected. See the failed checks above.")
    return passed
  } finally {
    await closeServices([orderApi, gateway, shipping, mail])
  }
}

const describeExit = (exit: EngineExit): string =>
  exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`

run(parseArguments()).then(
  (passed) => {
    process.exitCode = passed ? 0 : 1
  },
  (error: unknown) => {
    // A journal that cannot be emptied is a setup problem, and its message names the fix.
    if (error instanceof JournalResetError) console.error(error.message)
    else console.error("The example failed:", error)
    process.exitCode = 1
  }
)
