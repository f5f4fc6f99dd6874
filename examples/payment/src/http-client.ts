/**
 * JSON over HTTP for the workflow's activities. Network errors, timeouts, unexpected statuses and
 * response bodies that do not match their schema are defects, so the engine retries the activity.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** A response's status and its body parsed as JSON (`undefined` when the body is empty). */
export interface JsonReply {
  readonly status: number
  readonly body: unknown
}

const REQUEST_TIMEOUT = "5 seconds"

/** Sends a request with an optional JSON body and reads the JSON reply, whatever its status. */
export const requestJson = (
  method: "GET" | "POST",
  url: string,
  body?: unknown
): Effect.Effect<JsonReply> =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, {
        method,
        signal,
        ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      })
      const text = await response.text()
      return { status: response.status, body: text.length === 0 ? undefined : JSON.parse(text) as unknown }
    },
    catch: (cause) => new Error(`${method} ${url} failed: ${describe(cause)}`, { cause })
  }).pipe(
    Effect.timeoutOrElse({
      duration: REQUEST_TIMEOUT,
      orElse: () => Effect.fail(new Error(`${method} ${url} timed out after ${REQUEST_TIMEOUT}`))
    }),
    Effect.orDie
  )

/**
 * Decodes the body of a reply whose status is one of `expected`. Any other status, or a body that
 * does not match `schema`, is a defect that names the request and the reply.
 */
export const expectReply = <T>(
  reply: JsonReply,
  request: string,
  expected: ReadonlyArray<number>,
  schema: Schema.ConstraintDecoder<T>
): Effect.Effect<T> => {
  if (!expected.includes(reply.status)) {
    return Effect.die(new Error(`${request} returned status ${reply.status}: ${JSON.stringify(reply.body)}`))
  }
  const decoded = Schema.decodeUnknownResult(schema)(reply.body)
  return decoded._tag === "Success"
    ? Effect.succeed(decoded.success)
    : Effect.die(new Error(`${request} returned status ${reply.status} with an invalid body: ${decoded.failure.message}`))
}

const describe = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  // fetch reports connection errors as "fetch failed" and keeps the reason (ECONNREFUSED, ...) in `cause`.
  return cause.cause instanceof Error ? `${cause.message} (${cause.cause.message})` : cause.message
}
