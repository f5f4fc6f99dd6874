/**
 * The shop's order API: it returns each order's total and records which orders were handed to
 * shipping.
 */
import * as Schema from "effect/Schema"
import { HttpError, notFound, readJsonBody, type RunningServer, startJsonServer } from "./http"

/** An order's total, in cents. */
export interface OrderTotal {
  readonly amount: number
}

/** An order handed to shipping. */
export interface Shipment {
  readonly orderId: string
  readonly trackingId: string
  readonly idempotencyKey: string
}

export interface OrderApi extends RunningServer {
  /** Every order handed to shipping, once per idempotency key. */
  readonly shipments: ReadonlyArray<Shipment>
}

const ShipmentRequest = Schema.Struct({
  trackingId: Schema.NonEmptyString,
  idempotencyKey: Schema.NonEmptyString
})

const TOTAL_PATH = /^\/orders\/([^/]+)\/total$/
const SHIPMENTS_PATH = /^\/orders\/([^/]+)\/shipments$/

/**
 * Starts the order API on a free loopback port.
 *
 * - `GET /orders/:id/total` returns `{ orderId, amount }` (amount in cents), or 404 for an unknown order.
 * - `POST /orders/:id/shipments` with `{ trackingId, idempotencyKey }` records the hand-over and
 *   returns 201. A repeated key returns the first record with 200 and records nothing.
 */
export const startOrderApi = async (orders: Readonly<Record<string, OrderTotal>>): Promise<OrderApi> => {
  const shipments: Array<Shipment> = []
  const shipmentsByKey = new Map<string, Shipment>()

  const findOrder = (orderId: string): OrderTotal => {
    const order = orders[orderId]
    if (order === undefined) throw new HttpError(404, `Order ${orderId} not found`)
    return order
  }

  const server = await startJsonServer("order API", async (request, path) => {
    const total = TOTAL_PATH.exec(path)
    if (total !== null && request.method === "GET") {
      const orderId = decodeURIComponent(total[1]!)
      const order = findOrder(orderId)
      return { status: 200, body: { orderId, amount: order.amount } }
    }

    const shipment = SHIPMENTS_PATH.exec(path)
    if (shipment !== null && request.method === "POST") {
      const orderId = decodeURIComponent(shipment[1]!)
      findOrder(orderId)
      const body = await readJsonBody(request, ShipmentRequest)
      const existing = shipmentsByKey.get(body.idempotencyKey)
      if (existing !== undefined) return { status: 200, body: existing }

      const recorded: Shipment = { orderId, trackingId: body.trackingId, idempotencyKey: body.idempotencyKey }
      shipments.push(recorded)
      shipmentsByKey.set(body.idempotencyKey, recorded)
      return { status: 201, body: recorded }
    }

    return notFound(request, path)
  })

  return { ...server, shipments }
}
