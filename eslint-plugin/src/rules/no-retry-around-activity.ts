import { createRule } from "../internal/createRule"
import { reportFindings } from "../internal/report"

export const noRetryAroundActivity = createRule<[], "retryAroundActivity">({
  name: "no-retry-around-activity",
  meta: {
    type: "problem",
    docs: {
      description: "Disallow `Effect.retry` and `Effect.repeat` around an activity call in workflow bodies",
      recommended: true,
      requiresTypeChecking: true
    },
    messages: {
      retryAroundActivity: "`{{api}}` wraps activity `{{activity}}`{{chain}} in `{{workflow}}`. Each retry " +
        "journals another step of that name, and the delays between them are in-memory timers that a restart " +
        "forgets, while the runtime's own activity retry re-runs the activity on a journaled schedule. Set `retry` " +
        "or `retryFailures` in the activity's options, or retry inside the activity's own effect."
    },
    schema: []
  },
  defaultOptions: [],
  create(context) {
    return {
      "Program:exit"() {
        reportFindings(context, (finding) =>
          finding.kind._tag === "RetryAroundActivity"
            ? { messageId: "retryAroundActivity", data: { activity: finding.kind.activity } }
            : undefined)
      }
    }
  }
})
