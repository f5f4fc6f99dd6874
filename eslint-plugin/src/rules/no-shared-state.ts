import { createRule } from "../internal/createRule"
import { reportFindings } from "../internal/report"

type MessageId = "reassigned" | "mutated"

export const noSharedState = createRule<[], MessageId>({
  name: "no-shared-state",
  meta: {
    type: "problem",
    docs: {
      description: "Disallow changing module-level state from workflow bodies",
      recommended: true,
      requiresTypeChecking: true
    },
    messages: {
      reassigned: "`{{variable}}`{{chain}} is a module-level variable reassigned from the body of `{{workflow}}`. " +
        "Its value depends on which executions ran before in this process, so a replay after a restart sees " +
        "another value. Keep the state local to the body, or journal it through an activity.",
      mutated: "`{{variable}}`{{chain}} is module-level state changed from the body of `{{workflow}}`. Its " +
        "contents depend on which executions ran before in this process, so a replay after a restart sees other " +
        "contents. Keep the state local to the body, or journal it through an activity."
    },
    schema: []
  },
  defaultOptions: [],
  create(context) {
    return {
      "Program:exit"() {
        reportFindings(context, (finding) =>
          finding.kind._tag === "SharedState"
            ? { messageId: finding.kind.change, data: { variable: finding.kind.variable } }
            : undefined)
      }
    }
  }
})
