import { createConcernRule, executionIdMessage } from "../internal/concernRule"

export const noInMemoryTimers = createConcernRule({
  name: "no-in-memory-timers",
  concern: "timers",
  description: "Disallow in-memory timers, sleeps and timeouts in workflow bodies",
  inBody: "`{{api}}`{{chain}} waits on an in-memory timer in the body of `{{workflow}}`, which a restart loses " +
    "and a replay waits for again, and a timeout can fire on one run and not on its replay. Waymark has no durable " +
    "sleep yet, so wait or time out inside an activity, whose outcome is journaled.",
  inExecutionId: executionIdMessage("waits on an in-memory timer")
})
