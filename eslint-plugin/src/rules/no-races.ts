import { createConcernRule, executionIdMessage } from "../internal/concernRule"

export const noRaces = createConcernRule({
  name: "no-races",
  concern: "races",
  description: "Disallow races whose winner is not journaled in workflow bodies",
  inBody: "`{{api}}`{{chain}} races effects in the body of `{{workflow}}`, and the winner is not journaled, so a " +
    "replay can pick another winner and take another path. Run the race inside one activity, whose outcome is " +
    "journaled.",
  inExecutionId: executionIdMessage("races effects")
})
