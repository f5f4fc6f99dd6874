import { createConcernRule, executionIdMessage } from "../internal/concernRule"

export const noIo = createConcernRule({
  name: "no-io",
  concern: "io",
  description: "Disallow I/O outside activities in workflow bodies and execution-id functions",
  inBody: "`{{api}}`{{chain}} performs I/O in the body of `{{workflow}}`, so it runs again on every replay and " +
    "its result can differ from the first run. Move it into an activity, whose outcome is journaled and returned " +
    "on replay without running again.",
  inExecutionId: executionIdMessage("performs I/O")
})
