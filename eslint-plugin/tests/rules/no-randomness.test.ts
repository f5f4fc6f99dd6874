import { noRandomness } from "../../src/rules/no-randomness"
import { header, inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-randomness", noRandomness, {
  valid: [
    {
      name: "local effect run as an activity",
      code: inBody(`    const eff = Effect.sync(() => Math.random())\n    const n = yield* eff.pipe(Activity.make("rand", Schema.Number))`)
    },
    { name: "createHash", code: inBody(`    const h = createHash("sha256").update(request.orderId).digest("hex")`, `import { createHash } from "node:crypto"`) },
    { name: "randomness inside an activity", code: inBody(`    const n = yield* reserveItem(request.orderId)`) },
    {
      name: "Random seeded from the request",
      code: inBody(`    const n = yield* Random.next.pipe(Random.withSeed(request.orderId))`, `import * as Random from "effect/Random"`)
    },
    { name: "local function named random", code: inBody(`    const random = () => 4\n    const n = random()`) },
    { name: "randomness outside a workflow", code: `${header}\nexport const n = Math.random()` }
  ],
  invalid: [
    {
      name: "Math.random in the body",
      code: inBody(`    const n = Math.random()`),
      errors: [{ messageId: "inBody", line: 7, column: 15 }]
    },
    {
      name: "element access and alias",
      code: inBody(`    const a = Math["random"]()\n    const r = Math.random\n    const b = r()`),
      errors: [
        { messageId: "inBody", line: 7, column: 15 },
        { messageId: "inBody", line: 8, column: 15 },
        { messageId: "inBody", line: 9, column: 15 }
      ]
    },
    {
      name: "renamed node:crypto import and the global crypto",
      code: inBody(`    const a = id()\n    const b = globalThis.crypto.randomUUID()`, `import { randomUUID as id } from "node:crypto"`),
      errors: [{ messageId: "inBody", line: 7, column: 15 }, { messageId: "inBody", line: 8, column: 15 }]
    },
    {
      name: "uuid without installed types",
      code: inBody(`    const a = v4()`, `// @ts-ignore the fixture does not install uuid\nimport { v4 } from "uuid"`),
      errors: [{ messageId: "inBody", line: 7, column: 15 }]
    },
    {
      name: "Effect Random",
      code: inBody(`    const n = yield* Random.nextInt`, `import * as Random from "effect/Random"`),
      errors: [{ messageId: "inBody", line: 7, column: 22 }]
    },
    {
      name: "helper two files deep",
      code: inBody(`    const code = label("parcel")`, `import { label } from "./src/tracking"`),
      errors: [{
        messageId: "inBody",
        line: 7,
        column: 18,
        data: {
          api: "Math.random()",
          chain: " in `trackingCode()` (src/tracking.ts:3), called from `label()` (src/tracking.ts:7)",
          workflow: "shipOrder"
        }
      }]
    },
    {
      name: "layers of helpers calling each other",
      code: inBody(`    const n = layered()`, `import { layered } from "./src/callGraphs"`),
      errors: [{ messageId: "inBody", line: 7, column: 15 }]
    },
    {
      name: "helper passed as a callback",
      code: inBody(`    const code = yield* Effect.sync(trackingCode)`, `import { trackingCode } from "./src/tracking"`),
      errors: [{ messageId: "inBody", line: 7, column: 37 }]
    },
    {
      name: "random in the execution id",
      code: `${header}
export const shipOrder = Workflow.make(ShipOrder, () => String(Math.random()), () => Effect.succeed("done"))`,
      errors: [{ messageId: "inExecutionId", line: 5, column: 64 }]
    }
  ]
})
