import { createConcernRule, executionIdMessage } from "../internal/concernRule"

export const noEnvironmentReads = createConcernRule({
  name: "no-environment-reads",
  concern: "environment",
  description: "Disallow reading the process environment or configuration in workflow bodies and execution-id functions",
  inBody: "`{{api}}`{{chain}} reads the process environment in the body of `{{workflow}}`, so a replay on another " +
    "machine or after a configuration change can take another path. Pass the value in the request, or read it in " +
    "an activity, whose result is journaled.",
  inExecutionId: executionIdMessage("reads the process environment")
})
