import { noClockReads } from "../src/rules/no-clock-reads"
import { noRandomness } from "../src/rules/no-randomness"
import { describe } from "vitest"
import { ruleTester } from "./ruleTester"

const effectHeader = [
  `import * as Effect from "effect/Effect"`,
  `import * as Schema from "effect/Schema"`,
  `import * as Workflow from "effect/workflow/Workflow"`,
  `import * as Activity from "effect/workflow/Activity"`,
  `export const SendEmail = Workflow.make("SendEmail", {`,
  `  payload: { to: Schema.String },`
].join("\n")

describe("effect/workflow preset", () => {
ruleTester.run("no-clock-reads", noClockReads, {
  valid: [
    {
      name: "clock read in the execute of an activity",
      code: `${effectHeader}
  idempotencyKey: ({ to }) => to
})
export const layer = SendEmail.toLayer((payload) =>
  Activity.make({ name: "send", execute: Effect.sync(() => Date.now()) }).asEffect())`
    }
  ],
  invalid: [
    {
      name: "clock read in the toLayer body",
      code: `${effectHeader}
  idempotencyKey: ({ to }) => to
})
export const layer = SendEmail.toLayer((payload) => Effect.sync(() => Date.now()))`,
      errors: [{ messageId: "inBody", line: 9, column: 71 }]
    }
  ]
})

ruleTester.run("no-randomness", noRandomness, {
  valid: [],
  invalid: [
    {
      name: "randomness in the idempotency key",
      code: `${effectHeader}
  idempotencyKey: ({ to }) => \`\${to}-\${Math.random()}\`
})`,
      errors: [{ messageId: "inExecutionId", line: 7, column: 40 }]
    }
  ]
})
})
