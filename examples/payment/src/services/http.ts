/**
 * The small HTTP toolkit the example's services share: a JSON server on a free loopback port,
 * request body decoding with a schema, and JSON responses.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Schema from "effect/Schema"

/** A service started by this example: its base URL and a function that stops it. */
export interface RunningServer {
  readonly url: string
  readonly close: () => Promise<void>
}

/** A route handler's result: an HTTP status and a JSON body. */
export interface JsonResponse {
  readonly status: number
  readonly body: unknown
}

/** An error a handler throws to respond with a 4xx status and an error message. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
    this.name = "HttpError"
  }
}

/**
 * Starts a server on 127.0.0.1 with a port the OS picks, and routes each request to `handler`.
 * A handler that throws `HttpError` gets a response with its status, and any other exception gets 500.
 */
export const startJsonServer = async (
  name: string,
  handler: (request: http.IncomingMessage, path: string) => Promise<JsonResponse>
): Promise<RunningServer> => {
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname
    handler(request, path).then(
      (result) => sendJson(response, result.status, result.body),
      (error: unknown) => {
        if (error instanceof HttpError) {
          sendJson(response, error.status, { error: error.message })
          return
        }
        console.error(`${name}: ${request.method} ${path} failed:`, error)
        sendJson(response, 500, { error: "Internal server error" })
      }
    )
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)))
        // Keep-alive connections from fetch would otherwise hold the server open.
        server.closeAllConnections()
      })
  }
}

/** Reads the request body as JSON and decodes it with `schema`. Throws a 400 `HttpError` when it does not match. */
export const readJsonBody = async <T>(
  request: http.IncomingMessage,
  schema: Schema.ConstraintDecoder<T>
): Promise<T> => {
  const chunks: Array<Buffer> = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString("utf8")

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new HttpError(400, `The request body is not valid JSON: ${text.slice(0, 200)}`)
  }
  const decoded = Schema.decodeUnknownResult(schema)(parsed)
  if (decoded._tag === "Failure") {
    throw new HttpError(400, `Invalid request body: ${decoded.failure.message}`)
  }
  return decoded.success
}

/** Throws a 404 `HttpError` for a route this service does not have. */
export const notFound = (request: http.IncomingMessage, path: string): never => {
  throw new HttpError(404, `No route for ${request.method} ${path}`)
}

const sendJson = (response: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  response.end(text)
}
