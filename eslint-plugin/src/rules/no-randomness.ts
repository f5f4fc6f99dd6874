import { createConcernRule, executionIdMessage } from "../internal/concernRule"

export const noRandomness = createConcernRule({
  name: "no-randomness",
  concern: "randomness",
  description: "Disallow unseeded randomness in workflow bodies and execution-id functions",
  inBody: "`{{api}}`{{chain}} draws a random value in the body of `{{workflow}}`, so a replay gets another value " +
    "than the first run and can take another path. Draw it in an activity, whose result is journaled, or use " +
    "`Random.withSeed` with a seed from the request.",
  inExecutionId: executionIdMessage("draws a random value")
})
