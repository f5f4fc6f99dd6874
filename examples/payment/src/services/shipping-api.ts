/**
 * The shipping company's API: it issues a tracking code for a parcel, unless the warehouse is out
 * of stock.
 */
import * as Schema from "effect/Schema"
import { notFound, readJsonBody, type RunningServer, startJsonServer } from "./http"

/** A tracking code issued for a delivery. */
export interface TrackingCode {
  readonly trackingId: string
  readonly deliveryAddress: string
  readonly idempotencyKey: string
}

export interface ShippingApiOptions {
  /** Respond to every new tracking-code request with 409 `{ "error": "OutOfStock" }`. */
  readonly outOfStock?: boolean | undefined
}

export interface ShippingApi extends RunningServer {
  /** Every tracking code issued, once per idempotency key. */
  readonly trackingCodes: ReadonlyArray<TrackingCode>
  /** The number of requests that got the OutOfStock response. */
  readonly outOfStockResponses: () => number
}

const TrackingCodeRequest = Schema.Struct({
  deliveryAddress: Schema.NonEmptyString,
  idempotencyKey: Schema.NonEmptyString
})

/**
 * Starts the shipping API on a free loopback port.
 *
 * `POST /tracking-codes` with `{ deliveryAddress, idempotencyKey }` returns 201 `{ trackingId }`, and a
 * repeated key returns the first tracking code with 200. With `outOfStock` set, it responds with 409
 * `{ "error": "OutOfStock" }` and issues nothing.
 */
export const startShippingApi = async (options: ShippingApiOptions = {}): Promise<ShippingApi> => {
  const trackingCodes: Array<TrackingCode> = []
  const trackingCodesByKey = new Map<string, TrackingCode>()
  let outOfStockCount = 0

  const server = await startJsonServer("shipping API", async (request, path) => {
    if (path !== "/tracking-codes" || request.method !== "POST") return notFound(request, path)

    const body = await readJsonBody(request, TrackingCodeRequest)
    const existing = trackingCodesByKey.get(body.idempotencyKey)
    if (existing !== undefined) return { status: 200, body: { trackingId: existing.trackingId } }

    if (options.outOfStock === true) {
      outOfStockCount += 1
      return { status: 409, body: { error: "OutOfStock" } }
    }

    const issued: TrackingCode = {
      trackingId: `TRK-${String(trackingCodes.length + 1).padStart(4, "0")}`,
      deliveryAddress: body.deliveryAddress,
      idempotencyKey: body.idempotencyKey
    }
    trackingCodes.push(issued)
    trackingCodesByKey.set(body.idempotencyKey, issued)
    return { status: 201, body: { trackingId: issued.trackingId } }
  })

  return { ...server, trackingCodes, outOfStockResponses: () => outOfStockCount }
}
