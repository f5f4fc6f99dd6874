/**
 * The payment gateway: it charges cards and refunds charges, at most once per idempotency key.
 */
import * as Schema from "effect/Schema"
import { HttpError, type JsonResponse, notFound, readJsonBody, type RunningServer, startJsonServer } from "./http"

/** A charge the gateway made. Only the card's last four digits are kept. */
export interface Charge {
  readonly chargeId: string
  readonly cardLast4: string
  /** In cents. */
  readonly amount: number
  readonly idempotencyKey: string
}

/** A refund of a whole charge. */
export interface Refund {
  readonly refundId: string
  readonly chargeId: string
  readonly amount: number
  readonly idempotencyKey: string
}

/** A request with an idempotency key the gateway had seen, which got the first response again. */
export interface Replay {
  readonly operation: "charge" | "refund"
  readonly idempotencyKey: string
  readonly status: number
}

export interface PaymentGatewayOptions {
  /** Card numbers the gateway declines with 402 `{ "error": "PaymentDeclined" }`. */
  readonly declinedCards?: ReadonlyArray<string> | undefined
  /**
   * Called after a new charge is recorded and before the gateway sends its response. The response
   * waits for the returned promise.
   */
  readonly onCharge?: ((charge: Charge) => void | Promise<void>) | undefined
  /** Called when a request with a known idempotency key gets the first response again. */
  readonly onReplay?: ((replay: Replay) => void) | undefined
}

export interface PaymentGateway extends RunningServer {
  readonly charges: ReadonlyArray<Charge>
  readonly refunds: ReadonlyArray<Refund>
  readonly replays: ReadonlyArray<Replay>
}

const ChargeRequest = Schema.Struct({
  cardNumber: Schema.NonEmptyString,
  amount: Schema.Int.check(Schema.isGreaterThan(0)),
  idempotencyKey: Schema.NonEmptyString
})

const RefundRequest = Schema.Struct({
  chargeId: Schema.NonEmptyString,
  idempotencyKey: Schema.NonEmptyString
})

/**
 * Starts the payment gateway on a free loopback port.
 *
 * - `POST /charges` with `{ cardNumber, amount, idempotencyKey }` charges the card and returns 201
 *   `{ chargeId, amount }`, or 402 `{ "error": "PaymentDeclined" }` for a declined card.
 * - `POST /refunds` with `{ chargeId, idempotencyKey }` refunds the whole charge and returns 201
 *   `{ refundId, chargeId, amount }`, or 404 for an unknown charge.
 * - `GET /charges` returns `{ charges, refunds }`.
 *
 * A charge or refund request with a key the gateway has seen gets the first response again, and
 * nothing new is charged or refunded.
 */
export const startPaymentGateway = async (options: PaymentGatewayOptions = {}): Promise<PaymentGateway> => {
  const charges: Array<Charge> = []
  const refunds: Array<Refund> = []
  const replays: Array<Replay> = []
  const chargeResponses = new Map<string, JsonResponse>()
  const refundResponses = new Map<string, JsonResponse>()
  const declinedCards = new Set(options.declinedCards ?? [])

  // The response is stored under its key before the `onCharge` hook runs, so a retry that arrives
  // while the hook runs gets the stored response.
  const charge = async (cardNumber: string, amount: number, idempotencyKey: string): Promise<JsonResponse> => {
    if (declinedCards.has(cardNumber)) {
      const declined = { status: 402, body: { error: "PaymentDeclined" } }
      chargeResponses.set(idempotencyKey, declined)
      return declined
    }

    const newCharge: Charge = {
      chargeId: `ch_${String(charges.length + 1).padStart(4, "0")}`,
      cardLast4: cardNumber.slice(-4),
      amount,
      idempotencyKey
    }
    charges.push(newCharge)
    const response = { status: 201, body: { chargeId: newCharge.chargeId, amount: newCharge.amount } }
    chargeResponses.set(idempotencyKey, response)
    await options.onCharge?.(newCharge)
    return response
  }

  const refund = (chargeId: string, idempotencyKey: string): JsonResponse => {
    const charged = charges.find((candidate) => candidate.chargeId === chargeId)
    if (charged === undefined) throw new HttpError(404, `Charge ${chargeId} not found`)
    if (refunds.some((candidate) => candidate.chargeId === chargeId)) {
      throw new HttpError(409, `Charge ${chargeId} is already refunded`)
    }

    const newRefund: Refund = {
      refundId: `re_${String(refunds.length + 1).padStart(4, "0")}`,
      chargeId,
      amount: charged.amount,
      idempotencyKey
    }
    refunds.push(newRefund)
    return { status: 201, body: { refundId: newRefund.refundId, chargeId, amount: newRefund.amount } }
  }

  const recordReplay = (replay: Replay) => {
    replays.push(replay)
    options.onReplay?.(replay)
  }

  const server = await startJsonServer("payment gateway", async (request, path) => {
    if (path === "/charges" && request.method === "GET") return { status: 200, body: { charges, refunds } }

    if (path === "/charges" && request.method === "POST") {
      const body = await readJsonBody(request, ChargeRequest)
      const first = chargeResponses.get(body.idempotencyKey)
      if (first !== undefined) {
        recordReplay({ operation: "charge", idempotencyKey: body.idempotencyKey, status: first.status })
        return first
      }
      return charge(body.cardNumber, body.amount, body.idempotencyKey)
    }

    if (path === "/refunds" && request.method === "POST") {
      const body = await readJsonBody(request, RefundRequest)
      const first = refundResponses.get(body.idempotencyKey)
      if (first !== undefined) {
        recordReplay({ operation: "refund", idempotencyKey: body.idempotencyKey, status: first.status })
        return first
      }
      const response = refund(body.chargeId, body.idempotencyKey)
      refundResponses.set(body.idempotencyKey, response)
      return response
    }

    return notFound(request, path)
  })

  return { ...server, charges, refunds, replays }
}
