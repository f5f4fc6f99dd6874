import { noEnvironmentReads } from "../../src/rules/no-environment-reads"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-environment-reads", noEnvironmentReads, {
  valid: [
    {
      name: "local binding named process",
      code: inBody(`    const process = { env: { REGION: "eu" } }\n    const region = process.env.REGION`)
    },
    { name: "payload field named env", code: inBody(`    const payload = { env: "prod" }\n    const env = payload.env`) },
    {
      name: "environment read inside an activity",
      code: inBody(`    const r = yield* Effect.sync(() => process.env.REGION).pipe(Activity.make("region", Schema.Any))`)
    }
  ],
  invalid: [
    {
      name: "process.env",
      code: inBody(`    const region = process.env.REGION`),
      errors: [{ messageId: "inBody", line: 7, column: 20, endColumn: 31 }]
    },
    {
      name: "process.argv and process.cwd",
      code: inBody(`    const a = process.argv\n    const b = process.cwd()`),
      errors: [{ messageId: "inBody", line: 7, column: 15 }, { messageId: "inBody", line: 8, column: 15 }]
    },
    {
      name: "os.hostname through a renamed import",
      code: inBody(`    const host = machineName()`, `import { hostname as machineName } from "node:os"`),
      errors: [{ messageId: "inBody", line: 7, column: 18 }]
    },
    {
      name: "Effect Config",
      code: inBody(`    const url = yield* Config.String("API_URL")`, `import * as Config from "effect/Config"`),
      errors: [{ messageId: "inBody", line: 7, column: 24 }]
    },
    {
      name: "environment in the execution id",
      code: `import * as Effect from "effect/Effect"
import { Workflow } from "@waymark/runtime"
import { ShipOrder } from "./src/requests"
export const shipOrder = Workflow.make(ShipOrder, (request) => process.env.PREFIX + request.orderId, () =>
  Effect.succeed("done"))`,
      errors: [{ messageId: "inExecutionId", line: 4, column: 64 }]
    }
  ]
})
