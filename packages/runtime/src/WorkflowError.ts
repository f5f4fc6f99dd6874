/**
 * The typed errors of the runtime.
 *
 * Every error carries the ids it concerns (execution id, workflow, activity, attempt) as fields, and
 * derives its message from them, so logs and callers see the same facts.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * A request whose tag matches no registered workflow.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownWorkflowError extends Schema.TaggedError<UnknownWorkflowError>()("UnknownWorkflowError", {
  workflow: Schema.String,
  registered: Schema.Array(Schema.String)
}) {
  override get message() {
    return `No workflow is registered for request tag "${this.workflow}" (registered: ${
      this.registered.map((name) => `"${name}"`).join(", ") || "none"
    }). Pass its Workflow to WorkflowEngine.make.`
  }
}

/**
 * A request payload that does not match its schema.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPayloadError extends Schema.TaggedError<InvalidPayloadError>()("InvalidPayloadError", {
  workflow: Schema.String,
  payload: Schema.Unknown,
  issue: Schema.String
}) {
  override get message() {
    return `Invalid payload for workflow "${this.workflow}": ${this.issue}. Payload: ${preview(this.payload)}. ` +
      `Nothing was started; build the request with its class constructor so the schema is checked at the call site.`
  }
}

/**
 * The journal backend failed (a database that went away, a full disk, a locked file).
 *
 * @since 0.1.0
 * @category errors
 */
export class JournalError extends Schema.TaggedError<JournalError>()("JournalError", {
  operation: Schema.String,
  executionId: Schema.optional(Schema.String),
  cause: Schema.Defect(),
  /** Advice on what to do, from a backend that can be more specific than the default. */
  hint: Schema.optional(Schema.String)
}) {
  override get message() {
    const target = this.executionId === undefined ? "" : ` for execution "${this.executionId}"`
    const hint = this.hint ?? "Check that the journal's database is reachable and writable."
    return `Journal operation "${this.operation}"${target} failed: ${describeCause(this.cause)}. ` +
      `It was not recorded, unless the connection dropped during its commit. ${hint}`
  }
}

/**
 * An append whose expected sequence number was already taken: another writer recorded an event for
 * this execution first. Nothing of this append was written.
 *
 * @since 0.1.0
 * @category errors
 */
export class JournalConflictError extends Schema.TaggedError<JournalConflictError>()("JournalConflictError", {
  executionId: Schema.String,
  expectedSequence: Schema.Number,
  actualSequence: Schema.Number
}) {
  override get message() {
    return `Execution "${this.executionId}" was written by another writer: expected to append at sequence ` +
      `${this.expectedSequence}, but the journal is at ${this.actualSequence}. The append was rejected; ` +
      `the execution must be reloaded from the journal before it continues.`
  }
}

/**
 * A write by an engine that no longer holds the execution's lease: another engine claimed it (its
 * lease lapsed, or it was released). Nothing was written; the engine must stop running it.
 *
 * @since 0.1.0
 * @category errors
 */
export class LeaseLostError extends Schema.TaggedError<LeaseLostError>()("LeaseLostError", {
  executionId: Schema.String,
  engineId: Schema.String,
  epoch: Schema.Number
}) {
  override get message() {
    return `Engine "${this.engineId}" no longer holds the lease of execution "${this.executionId}" ` +
      `(epoch ${this.epoch}): another engine claimed it, or the lease was released. The write was ` +
      `rejected; this engine stops running the execution, and whichever engine holds it carries it on.`
  }
}

/**
 * A journal row that cannot be decoded: corrupt JSON, an unknown event kind, or a value that no
 * longer matches its schema.
 *
 * @since 0.1.0
 * @category errors
 */
export class JournalDecodeError extends Schema.TaggedError<JournalDecodeError>()("JournalDecodeError", {
  executionId: Schema.String,
  sequence: Schema.optional(Schema.Number),
  value: Schema.String,
  issue: Schema.String
}) {
  override get message() {
    const at = this.sequence === undefined ? "" : ` at sequence ${this.sequence}`
    return `Cannot decode the journal of execution "${this.executionId}"${at}: ${this.issue}. Stored value: ` +
      `${preview(this.value)}. The execution is parked and its journal left as it is; ` +
      `deploy code whose schemas read the stored value, then resume the execution.`
  }
}

/**
 * Replay diverged from the journal: the workflow body asked for a step that the journal does not
 * record at that point, so the code is no longer the code that wrote the journal.
 *
 * @since 0.1.0
 * @category errors
 */
export class NonDeterminismError extends Schema.TaggedError<NonDeterminismError>()("NonDeterminismError", {
  executionId: Schema.String,
  workflow: Schema.String,
  requested: Schema.String,
  recorded: Schema.String
}) {
  override get message() {
    return `Workflow "${this.workflow}" diverged from the journal of execution "${this.executionId}": ` +
      `the body requested ${this.requested}, but the journal records ${this.recorded} at that point. ` +
      `The execution is parked and its journal left as it is. Restore the recorded order of steps ` +
      `(or branch on a version) and resume the execution.`
  }
}

/**
 * Two calls of one activity name running at the same time in one execution. Their recorded results
 * could not be distinguished on replay, so the second call is rejected.
 *
 * @since 0.1.0
 * @category errors
 */
export class DuplicateActivityError extends Schema.TaggedError<DuplicateActivityError>()("DuplicateActivityError", {
  executionId: Schema.String,
  workflow: Schema.String,
  activity: Schema.String
}) {
  override get message() {
    return `Activity "${this.activity}" was started while another call of "${this.activity}" was still running ` +
      `in execution "${this.executionId}" of workflow "${this.workflow}". Concurrent calls need distinct names ` +
      `(for example, add the item id to the name). The execution is parked; fix the names and resume it.`
  }
}

/**
 * An activity that kept failing with defects until its retry schedule ran out.
 *
 * @since 0.1.0
 * @category errors
 */
export class ActivityRetriesExhaustedError extends Schema.TaggedError<ActivityRetriesExhaustedError>()(
  "ActivityRetriesExhaustedError",
  {
    executionId: Schema.String,
    activity: Schema.String,
    attempt: Schema.Number,
    defect: Schema.String
  }
) {
  override get message() {
    return `Activity "${this.activity}" of execution "${this.executionId}" failed on attempt ${this.attempt} and ` +
      `its retry schedule is exhausted: ${this.defect}. The execution is parked; fix the cause and resume it ` +
      `to start a new round of retries.`
  }
}

/**
 * An activity whose result (or typed failure) does not fit its schema, so it cannot be journaled.
 * Its side effect has happened; retrying would only repeat it, so the execution parks at once.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidActivityResultError extends Schema.TaggedError<InvalidActivityResultError>()(
  "InvalidActivityResultError",
  {
    executionId: Schema.String,
    activity: Schema.String,
    attempt: Schema.Number,
    kind: Schema.Literals(["result", "failure"]),
    issue: Schema.String
  }
) {
  override get message() {
    return `Activity "${this.activity}" of execution "${this.executionId}" returned a ${this.kind} on attempt ` +
      `${this.attempt} that its ${this.kind === "result" ? "success" : "failure"} schema cannot encode: ` +
      `${this.issue}. The execution is parked; fix the schema or the activity and resume it, which runs the ` +
      `activity again.`
  }
}

/**
 * A workflow body that died with a defect outside any activity.
 *
 * @since 0.1.0
 * @category errors
 */
export class WorkflowDefectError extends Schema.TaggedError<WorkflowDefectError>()("WorkflowDefectError", {
  executionId: Schema.String,
  workflow: Schema.String,
  defect: Schema.String
}) {
  override get message() {
    return `Workflow "${this.workflow}" died in execution "${this.executionId}": ${this.defect}. ` +
      `The execution is parked with its journal intact; fix the body and resume it.`
  }
}

/**
 * The execution is parked: it stopped on an error that needs an operator, and waits for `resume`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExecutionParkedError extends Schema.TaggedError<ExecutionParkedError>()("ExecutionParkedError", {
  executionId: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Execution "${this.executionId}" is parked: ${this.reason}`
  }
}

/**
 * An operation on an execution id that the journal does not have.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExecutionNotFoundError extends Schema.TaggedError<ExecutionNotFoundError>()("ExecutionNotFoundError", {
  executionId: Schema.String
}) {
  override get message() {
    return `No execution "${this.executionId}" exists in the journal. Check the id, or send the request that starts it.`
  }
}

/**
 * `resume` on an execution that is neither paused nor parked.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExecutionNotResumableError extends Schema.TaggedError<ExecutionNotResumableError>()(
  "ExecutionNotResumableError",
  {
    executionId: Schema.String,
    status: Schema.String
  }
) {
  override get message() {
    return `Execution "${this.executionId}" is ${this.status}; only paused or parked executions can be resumed.`
  }
}

/**
 * The engine stopped (graceful shutdown) while a caller was waiting for a result. The execution
 * itself is not failed: it resumes when an engine starts on the same journal.
 *
 * @since 0.1.0
 * @category errors
 */
export class EngineStoppedError extends Schema.TaggedError<EngineStoppedError>()("EngineStoppedError", {
  executionId: Schema.String
}) {
  override get message() {
    return `The engine stopped before execution "${this.executionId}" finished. The execution is kept and ` +
      `resumes on the next engine start; send the same request again to wait for its result.`
  }
}

const preview = (value: unknown): string => {
  let text: string
  try {
    text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 300 ? `${text.slice(0, 300)}...` : text
}

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message
  if (typeof cause === "string") return cause
  return preview(cause)
}
