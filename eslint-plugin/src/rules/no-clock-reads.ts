import { createConcernRule, executionIdMessage } from "../internal/concernRule"

export const noClockReads = createConcernRule({
  name: "no-clock-reads",
  concern: "time",
  description: "Disallow reading the clock in workflow bodies and execution-id functions",
  inBody: "`{{api}}`{{chain}} reads the clock in the body of `{{workflow}}`, so a replay gets another time than " +
    "the first run and can take another path. Waymark has no durable clock yet, so read the time in an activity, " +
    "whose result is journaled.",
  inExecutionId: executionIdMessage("reads the clock")
})
