/**
 * Reads an execution's journal (SQLite or Postgres) and formats it for the terminal.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { DurableExecutionJournal, JournalEvent } from "@waymark/runtime"
import { journalLayer, type JournalSettings } from "./journal-settings"

/** An execution's status row and its decoded log. */
export interface ExecutionReport {
  readonly record: DurableExecutionJournal.ExecutionRecord | undefined
  readonly events: ReadonlyArray<JournalEvent.RecordedEvent>
}

/** Opens the journal, reads one execution, and closes the journal again. */
export const readExecution = (journal: JournalSettings, executionId: string): Promise<ExecutionReport> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const journal = yield* DurableExecutionJournal.DurableExecutionJournal
      const record = yield* journal.find(executionId)
      const entries = yield* journal.read(executionId)
      const events = yield* Effect.forEach(entries, JournalEvent.fromEntry)
      return { record, events }
    }).pipe(Effect.provide(journalLayer(journal)))
  )

const decodeOutcome = Schema.decodeUnknownOption(Schema.fromJsonString(JournalEvent.Outcome))

/**
 * Decodes a status row's result (the JSON text of an outcome) into the workflow's return value;
 * `None` when there is no result or the workflow failed.
 */
export const successValue = (result: string | undefined): Option.Option<unknown> => {
  if (result === undefined) return Option.none()
  const outcome = decodeOutcome(result)
  return Option.isSome(outcome) && outcome.value._tag === "Success" ? Option.some(outcome.value.value) : Option.none()
}

/** Renders a status row's result: the returned value as JSON, or the typed failure. */
export const describeResult = (result: string | undefined): string => {
  if (result === undefined) return "(none recorded)"
  const outcome = decodeOutcome(result)
  if (Option.isNone(outcome)) return result
  return describeOutcome(outcome.value)
}

const describeOutcome = (outcome: JournalEvent.Outcome): string =>
  outcome._tag === "Success" ? describeValue("success", outcome.value) : describeValue("failure", outcome.error)

/**
 * Renders an encoded value after `label`: nothing for `null` (how a void result is stored), the tag
 * alone for a tagged error without fields, JSON otherwise.
 */
const describeValue = (label: string, value: Schema.Json): string => {
  if (value === null) return label
  if (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1) {
    const tag = (value as { readonly _tag?: unknown })._tag
    if (typeof tag === "string") return `${label} ${tag}`
  }
  return `${label} ${JSON.stringify(value)}`
}

/** One row of the journal table. */
interface EventRow {
  readonly sequence: string
  readonly kind: string
  readonly activity: string
  readonly attempt: string
  readonly outcome: string
}

const toRow = ({ event, sequence }: JournalEvent.RecordedEvent): EventRow => {
  const base = { sequence: String(sequence), kind: event._tag, activity: "", attempt: "", outcome: "" }
  switch (event._tag) {
    case "Started":
      return base
    case "ActivityAttempted":
      return { ...base, activity: event.activity, attempt: String(event.attempt) }
    case "ActivityAttemptFailed":
      return {
        ...base,
        activity: event.activity,
        attempt: String(event.attempt),
        outcome: firstLine(event.defect) + (event.retryAt === null ? " (no retries left)" : "")
      }
    case "ActivityAttemptInterrupted":
      return { ...base, activity: event.activity, attempt: String(event.attempt), outcome: "interrupted" }
    case "ActivityCompleted":
      return {
        ...base,
        activity: event.activity,
        attempt: String(event.attempt),
        outcome: describeOutcome(event.outcome)
      }
    case "Paused":
      return { ...base, outcome: event.reason }
    case "Resumed":
      return { ...base, outcome: `from ${event.from}` }
    case "Completed":
      return { ...base, outcome: describeOutcome(event.outcome) }
  }
}

const firstLine = (text: string): string => text.split("\n", 1)[0] ?? ""

/** Formats the log as an aligned table, one line per event, each line prefixed with `indent`. */
export const formatJournal = (events: ReadonlyArray<JournalEvent.RecordedEvent>, indent = "  "): Array<string> => {
  const header: EventRow = { sequence: "seq", kind: "event", activity: "activity", attempt: "attempt", outcome: "outcome" }
  const rows = [header, ...events.map(toRow)]
  const width = (column: keyof EventRow) => Math.max(...rows.map((row) => row[column].length))
  const widths = {
    sequence: width("sequence"),
    kind: width("kind"),
    activity: width("activity"),
    attempt: width("attempt")
  }
  return rows.map((row) =>
    (indent + [
      row.sequence.padEnd(widths.sequence),
      row.kind.padEnd(widths.kind),
      row.activity.padEnd(widths.activity),
      row.attempt.padEnd(widths.attempt),
      row.outcome
    ].join("  ")).trimEnd()
  )
}
