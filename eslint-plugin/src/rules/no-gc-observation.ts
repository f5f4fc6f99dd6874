import { createConcernRule, executionIdMessage } from "../internal/concernRule"

export const noGcObservation = createConcernRule({
  name: "no-gc-observation",
  concern: "gc",
  description: "Disallow observing garbage collection in workflow bodies",
  inBody: "`{{api}}`{{chain}} observes garbage collection in the body of `{{workflow}}`, whose timing differs " +
    "between a run and its replay. Keep a plain reference, or move the code into an activity.",
  inExecutionId: executionIdMessage("observes garbage collection")
})
