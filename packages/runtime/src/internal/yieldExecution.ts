import * as Effect from "effect/Effect"
import * as WorkflowContext from "../WorkflowContext"
import { storableText } from "./codec"
import { YIELD_STEP } from "./ReplayIndex"

export const yieldExecution = (reason = "yielded by the workflow"): Effect.Effect<void, never, WorkflowContext.WorkflowContext> =>
  Effect.gen(function*() {
    const { execution } = yield* WorkflowContext.require("Workflow.yieldExecution")
    const step = execution.nextStep(YIELD_STEP)
    const { history, after } = yield* execution.claim(step)
    if (history?.resumed === true) return
    // A pause recorded without a resume cannot be replayed here: the engine only runs a paused
    // execution after appending its resume.
    if (history === undefined) {
      yield* execution.append([{ _tag: "Paused", step, reason, after }], { status: "paused", detail: storableText(reason) })
    }
    return yield* execution.halt({ _tag: "Paused" })
  })
