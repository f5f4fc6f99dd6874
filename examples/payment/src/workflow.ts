/**
 * The payment workflow: read the order's total, charge the card, get a tracking code, hand the
 * order to shipping and send a confirmation mail. When the warehouse is out of stock, the charge is
 * refunded and the workflow returns `false`.
 *
 * Each activity sends its `Activity.persistenceId` as the idempotency key, so an attempt that runs
 * again after a crash gets the first attempt's response instead of charging or mailing twice.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { Activity, Workflow, WorkflowRequest } from "@waymark/runtime"
import { expectReply, requestJson } from "./http-client"

/** The base URLs of the services the activities call. */
export class PaymentServices extends Context.Service<PaymentServices, {
  readonly orderApiUrl: string
  readonly paymentGatewayUrl: string
  readonly shippingApiUrl: string
  readonly mailServiceUrl: string
}>()("@waymark/example-payment/PaymentServices") {}

/**
 * A function that receives one line when an activity attempt starts. The default discards the line,
 * and the engine process prints it. Replayed activities do not run, so they report nothing.
 */
export const StepReporter = Context.Reference<(line: string) => Effect.Effect<void>>(
  "@waymark/example-payment/StepReporter",
  { defaultValue: () => () => Effect.void }
)

export class ProcessPayment extends WorkflowRequest<ProcessPayment>()("ProcessPayment", {
  payload: {
    orderId: Schema.NonEmptyString,
    cardNumber: Schema.NonEmptyString,
    email: Schema.NonEmptyString,
    deliveryAddress: Schema.NonEmptyString
  },
  success: Schema.Boolean,
  failure: Schema.Never
}) {}

/** The gateway declined the card (HTTP 402). Nothing was charged. */
export class PaymentDeclined extends Schema.TaggedError<PaymentDeclined>()("PaymentDeclined", {}) {}

/** The shipping API has no stock for the order (HTTP 409). No tracking code was issued. */
export class OutOfStock extends Schema.TaggedError<OutOfStock>()("OutOfStock", {}) {}

/** Prints the running attempt's activity name and number, followed by `detail`. */
const reportAttempt = (detail: string) =>
  Effect.gen(function*() {
    const context = yield* Activity.ActivityContext
    const report = yield* StepReporter
    yield* report(`${context.activity}, attempt ${context.attempt}: ${detail}`)
  })

/** Formats an amount in cents, for example 12990 as "129.90". */
export const formatAmount = (cents: number): string => (cents / 100).toFixed(2)

const OrderTotalReply = Schema.Struct({ amount: Schema.Int })
const ChargeReply = Schema.Struct({ chargeId: Schema.String })
const TrackingCodeReply = Schema.Struct({ trackingId: Schema.String })

/** Reads the order's total, in cents. */
export const getTotalAmount = (orderId: string) =>
  Effect.gen(function*() {
    const services = yield* PaymentServices
    yield* reportAttempt(`reading the total of order ${orderId}`)
    const url = `${services.orderApiUrl}/orders/${encodeURIComponent(orderId)}/total`
    const reply = yield* requestJson("GET", url)
    const total = yield* expectReply(reply, `GET ${url}`, [200], OrderTotalReply)
    return total.amount
  }).pipe(Activity.make("get-total-amount", Schema.Int))

/** Charges the card and returns the gateway's charge id. */
export const chargeCreditCard = (cardNumber: string, amount: number) =>
  Effect.gen(function*() {
    const services = yield* PaymentServices
    const idempotencyKey = yield* Activity.persistenceId
    yield* reportAttempt(`charging ${formatAmount(amount)} to the card ending in ${cardNumber.slice(-4)}`)
    const url = `${services.paymentGatewayUrl}/charges`
    const reply = yield* requestJson("POST", url, { cardNumber, amount, idempotencyKey })
    if (reply.status === 402) return yield* new PaymentDeclined()
    const charge = yield* expectReply(reply, `POST ${url}`, [200, 201], ChargeReply)
    return charge.chargeId
  }).pipe(Activity.make("charge-credit-card", Schema.String, PaymentDeclined))

/** Refunds a charge in full. */
export const refundCreditCard = (chargeId: string) =>
  Effect.gen(function*() {
    const services = yield* PaymentServices
    const idempotencyKey = yield* Activity.persistenceId
    yield* reportAttempt(`refunding charge ${chargeId}`)
    const url = `${services.paymentGatewayUrl}/refunds`
    const reply = yield* requestJson("POST", url, { chargeId, idempotencyKey })
    yield* expectReply(reply, `POST ${url}`, [200, 201], Schema.Unknown)
  }).pipe(Activity.make("refund-credit-card", Schema.Void))

/** Asks the shipping API for a tracking code for a parcel to `deliveryAddress`. */
export const createShippingTrackingCode = (deliveryAddress: string) =>
  Effect.gen(function*() {
    const services = yield* PaymentServices
    const idempotencyKey = yield* Activity.persistenceId
    yield* reportAttempt(`requesting a tracking code for ${deliveryAddress}`)
    const url = `${services.shippingApiUrl}/tracking-codes`
    const reply = yield* requestJson("POST", url, { deliveryAddress, idempotencyKey })
    if (reply.status === 409) return yield* new OutOfStock()
    const code = yield* expectReply(reply, `POST ${url}`, [200, 201], TrackingCodeReply)
    return code.trackingId
  }).pipe(Activity.make("create-shipping-tracking-code", Schema.String, OutOfStock))

/** Tells the order API that the order was handed to shipping under `trackingId`. */
export const sendOrderToShipping = (orderId: string, trackingId: string) =>
  Effect.gen(function*() {
    const services = yield* PaymentServices
    const idempotencyKey = yield* Activity.persistenceId
    yield* reportAttempt(`handing order ${orderId} to shipping as ${trackingId}`)
    const url = `${services.orderApiUrl}/orders/${encodeURIComponent(orderId)}/shipments`
    const reply = yield* requestJson("POST", url, { trackingId, idempotencyKey })
    yield* expectReply(reply, `POST ${url}`, [200, 201], Schema.Unknown)
  }).pipe(Activity.make("send-order-to-shipping", Schema.Void))

/** Mails the customer that the order is paid and on its way. */
export const sendConfirmationEmail = (email: string, orderId: string, trackingId: string) =>
  Effect.gen(function*() {
    const services = yield* PaymentServices
    const idempotencyKey = yield* Activity.persistenceId
    yield* reportAttempt(`mailing the confirmation to ${email}`)
    const url = `${services.mailServiceUrl}/mails`
    const reply = yield* requestJson("POST", url, {
      to: email,
      subject: `Order ${orderId} is paid`,
      text: `Your order ${orderId} is paid and on its way. Tracking code: ${trackingId}.`,
      idempotencyKey
    })
    yield* expectReply(reply, `POST ${url}`, [200, 202], Schema.Unknown)
  }).pipe(Activity.make("send-confirmation-email", Schema.Void))

/**
 * Returns `true` when the order is paid and shipped, and `false` when the card was declined or the
 * order was out of stock (then the charge is refunded).
 */
export const processPayment = Workflow.make(
  ProcessPayment,
  (request) => `ProcessPayment@${request.orderId}`,
  (request) =>
    Effect.gen(function*() {
      const amount = yield* getTotalAmount(request.orderId)
      const chargeId = yield* chargeCreditCard(request.cardNumber, amount)

      return yield* Effect.gen(function*() {
        const trackingId = yield* createShippingTrackingCode(request.deliveryAddress)
        yield* sendOrderToShipping(request.orderId, trackingId)
        yield* sendConfirmationEmail(request.email, request.orderId, trackingId)
        return true
      }).pipe(
        // Compensation: the card was charged for an order that cannot ship, so the charge is refunded.
        Effect.catchTag("OutOfStock", () => Effect.as(refundCreditCard(chargeId), false))
      )
    }).pipe(
      Effect.catchTag("PaymentDeclined", () => Effect.succeed(false))
    )
)

export const workflows = Workflow.union(processPayment)
