import { noInMemoryTimers } from "../../src/rules/no-in-memory-timers"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-in-memory-timers", noInMemoryTimers, {
  valid: [
    { name: "Duration values", code: inBody(`    const d = Duration.millis(10)`, `import * as Duration from "effect/Duration"`) },
    {
      name: "sleep inside an activity",
      code: inBody(`    yield* Effect.sleep("1 second").pipe(Activity.make("wait", Schema.Void))`)
    }
  ],
  invalid: [
    {
      name: "setTimeout and setInterval",
      code: inBody(`    setTimeout(() => {}, 10)\n    setInterval(() => {}, 10)`),
      errors: [{ messageId: "inBody", line: 7, column: 5 }, { messageId: "inBody", line: 8, column: 5 }]
    },
    {
      name: "timers/promises under another name",
      code: inBody(`    yield* Effect.promise(() => wait(10))`, `import { setTimeout as wait } from "node:timers/promises"`),
      errors: [{ messageId: "inBody", line: 7, column: 33 }]
    },
    {
      name: "Effect.sleep",
      code: inBody(`    yield* Effect.sleep("1 second")`),
      errors: [{ messageId: "inBody", line: 7, column: 12 }]
    },
    {
      name: "Effect.delay and Effect.timeout in a pipe",
      code: inBody(`    yield* chargeCard(request.orderId).pipe(Effect.delay("1 second"), Effect.timeout("5 seconds"))`),
      errors: [{ messageId: "inBody", line: 7, column: 45 }, { messageId: "inBody", line: 7, column: 71 }]
    }
  ]
})
