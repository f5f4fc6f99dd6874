import { noRetryAroundActivity } from "../../src/rules/no-retry-around-activity"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-retry-around-activity", noRetryAroundActivity, {
  valid: [
    {
      name: "retry inside the activity's effect",
      code: inBody(`    yield* Effect.void.pipe(Effect.retry({ times: 3 }), Activity.make("send", Schema.Void))`)
    },
    { name: "retry of a plain effect", code: inBody(`    yield* Effect.succeed(1).pipe(Effect.retry({ times: 3 }))`) }
  ],
  invalid: [
    {
      name: "retry piped after an activity helper",
      code: inBody(`    yield* chargeCard(request.orderId).pipe(Effect.retry({ times: 3 }))`),
      errors: [{ messageId: "retryAroundActivity", line: 7, column: 45 }]
    },
    {
      name: "retry piped after Activity.make",
      code: inBody(`    yield* Effect.void.pipe(Activity.make("send", Schema.Void), Effect.repeat({ times: 2 }))`),
      errors: [{ messageId: "retryAroundActivity", line: 7, column: 65 }]
    },
    {
      name: "retry after a local activity factory",
      code: inBody(`    const send = Activity.make("send", Schema.Void)\n    yield* Effect.void.pipe(Activity.make("other", Schema.Void))\n    yield* Effect.void.pipe(send, Effect.retry({ times: 3 }))`),
      errors: [{ messageId: "retryAroundActivity", line: 9, column: 35, data: { api: "Effect.retry()", activity: "send", chain: "", workflow: "shipOrder" } }]
    },
    {
      name: "data-first retry",
      code: inBody(`    yield* Effect.retry(chargeCard(request.orderId), { times: 3 })`),
      errors: [{ messageId: "retryAroundActivity", line: 7, column: 12 }]
    }
  ]
})
