/**
 * Turns driver failures into the runtime's `JournalError`, with a hint that names the connection URL
 * (its password hidden) when the server cannot be reached.
 */
import { WorkflowError } from "@waymark/runtime"
import type { SqlError } from "effect/sql/SqlError"

/** The source of the connection URL, so that the hint can name the setting to fix. */
export type UrlSource = "option" | "environment" | "default"

/** The connection URL and its source, as the error hints print them. */
export interface ConnectionTarget {
  readonly url: string
  readonly source: UrlSource
}

/** Returns `url` with its password replaced by `***`, or a placeholder when it is invalid. */
export const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    if (parsed.password !== "") parsed.password = "***"
    // The query may carry `password=...` as well, and @effect/sql-pg reads it there.
    if (parsed.searchParams.has("password")) parsed.searchParams.set("password", "***")
    return parsed.toString()
  } catch {
    return "(an invalid URL)"
  }
}

const describeSource = (source: UrlSource): string => {
  switch (source) {
    case "option":
      return "from the `url` option"
    case "environment":
      return "from DATABASE_URL"
    case "default":
      return "the default, because neither the `url` option nor DATABASE_URL is set"
  }
}

/** The hint of a `JournalError` whose cause is a connection that failed or was lost. */
export const connectionHint = (target: ConnectionTarget): string =>
  `Check DATABASE_URL or the \`url\` option (now ${redactUrl(target.url)}, ${describeSource(target.source)}) ` +
  `and that the PostgreSQL server runs and accepts connections. The pool opens a new connection on the next call.`

interface ServerErrorFields {
  readonly message?: unknown
  readonly code?: unknown
  readonly detail?: unknown
}

/** Returns the SQLSTATE code of a server error, if the driver recorded one. */
export const sqlStateOf = (error: SqlError): string | undefined => {
  const cause = error.reason.cause as ServerErrorFields | undefined
  return typeof cause?.code === "string" ? cause.code : undefined
}

/**
 * Returns whether the failure is a connection that could not be opened or was lost: the driver's
 * `ConnectionError`, or a server that ended the session (SQLSTATE class 57P: administrator
 * command, crash or shutdown).
 */
export const isConnectionFailure = (error: SqlError): boolean => {
  if (error.reason._tag === "ConnectionError") return true
  return sqlStateOf(error)?.startsWith("57P") === true
}

/**
 * Builds the cause of a `JournalError` from a driver error. The driver's own message is generic
 * (@effect/sql-pg 4.1.5 reports "PgConnection: Query failed"), so the server's message, detail and
 * SQLSTATE are appended.
 */
export const causeOf = (error: SqlError): Error => {
  const inner = error.reason.cause as ServerErrorFields | Error | undefined
  const parts = [error.message]
  const innerMessage = inner instanceof Error ? inner.message : inner?.message
  if (typeof innerMessage === "string" && innerMessage !== "" && innerMessage !== error.message) {
    parts.push(innerMessage)
  }
  const detail = (inner as ServerErrorFields | undefined)?.detail
  if (typeof detail === "string" && detail !== "") parts.push(detail)
  const code = sqlStateOf(error)
  const text = parts.join(": ") + (code === undefined ? "" : ` (SQLSTATE ${code})`)
  return new Error(text, { cause: error })
}

/** Maps a driver error of `operation` to a `JournalError`. */
export const toJournalError = (
  target: ConnectionTarget,
  operation: string,
  executionId: string | undefined,
  error: SqlError
): WorkflowError.JournalError =>
  new WorkflowError.JournalError({
    operation,
    executionId,
    cause: causeOf(error),
    hint: isConnectionFailure(error)
      ? connectionHint(target)
      : error.reason._tag === "AuthenticationError"
      ? `Check the user name and password in the connection URL (now ${redactUrl(target.url)}, ` +
        `${describeSource(target.source)}).`
      : undefined
  })
