import { noClockReads } from "../../src/rules/no-clock-reads"
import { header, inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-clock-reads", noClockReads, {
  valid: [
    { name: "new Date with an argument", code: inBody(`    const at = new Date(request.at)`) },
    { name: "Date.UTC and Date.parse", code: inBody(`    const a = Date.UTC(2024, 1); const b = Date.parse("2024-01-01")`) },
    { name: "Duration values", code: inBody(`    const d = Duration.seconds(5)`, `import * as Duration from "effect/Duration"`) },
    { name: "clock read inside an activity", code: inBody(`    const at = yield* Effect.sync(() => Date.now()).pipe(Activity.make("read-clock", Schema.Number))`) },
    { name: "clock read inside a curried activity", code: inBody(`    const at = yield* Activity.make("read-clock", Schema.Number)(Effect.sync(() => Date.now()))`) },
    { name: "activity helper reading the clock", code: inBody(`    const id = yield* chargeCard(request.orderId)`) },
    { name: "pure function named now", code: inBody(`    const at = now(request.at)`, `import { now } from "./src/clock"`) },
    { name: "helper tagged deterministic", code: inBody(`    const at = vouchedTime()`, `import { vouchedTime } from "./src/clock"`) },
    { name: "clock read outside any workflow", code: `${header}\nexport const at = Date.now()` },
    {
      name: "disable comment on the line",
      code: inBody(`    // eslint-disable-next-line @rule-tester/no-clock-reads -- the timestamp is only logged\n    const at = Date.now()`)
    }
  ],
  invalid: [
    {
      name: "Date.now in the body",
      code: inBody(`    const at = Date.now()`),
      errors: [{ messageId: "inBody", line: 7, column: 16, endColumn: 26 }]
    },
    {
      name: "new Date without arguments",
      code: inBody(`    const at = new Date()`),
      errors: [{ messageId: "inBody", line: 7, column: 16 }]
    },
    {
      name: "Date called as a function with an argument",
      code: inBody(`    const text = Date(request.at)`),
      errors: [{ messageId: "inBody", line: 7, column: 18 }]
    },
    {
      name: "alias of the Date constructor",
      code: inBody(`    const D = Date\n    const at = new D()`),
      errors: [{ messageId: "inBody", line: 8, column: 16 }]
    },
    {
      name: "Date through globalThis",
      code: inBody(`    const at = globalThis.Date.now()`),
      errors: [{ messageId: "inBody", line: 7, column: 16 }]
    },
    {
      name: "performance.now and process.hrtime",
      code: inBody(`    const a = performance.now()\n    const b = process.hrtime.bigint()`),
      errors: [{ messageId: "inBody", line: 7, column: 15 }, { messageId: "inBody", line: 8, column: 15 }]
    },
    {
      name: "Effect Clock and DateTime.now",
      code: inBody(
        `    const a = yield* Clock.currentTimeMillis\n    const b = yield* DateTime.now`,
        `import * as Clock from "effect/Clock"\nimport * as DateTime from "effect/DateTime"`
      ),
      errors: [{ messageId: "inBody", line: 7, column: 22 }, { messageId: "inBody", line: 8, column: 22 }]
    },
    {
      name: "renamed import of DateTime.now",
      code: inBody(`    const a = yield* currentTime`, `import { now as currentTime } from "effect/DateTime"`),
      errors: [{ messageId: "inBody", line: 7, column: 22 }]
    },
    {
      name: "helper in another file",
      code: inBody(`    const at = nowSeconds()`, `import { nowSeconds } from "./src/clock"`),
      errors: [{
        messageId: "inBody",
        line: 7,
        column: 16,
        data: { api: "Date.now()", chain: " in `nowSeconds()` (src/clock.ts:3)", workflow: "shipOrder" }
      }]
    },
    {
      name: "module value computed from the clock",
      code: inBody(`    const at = startedAt`, `import { startedAt } from "./src/clock"`),
      errors: [{ messageId: "inBody", line: 7, column: 16 }]
    },
    {
      name: "name argument of an activity is checked",
      code: inBody(`    yield* Effect.void.pipe(Activity.make("x", Schema.Void, Schema.Never, { retry: undefined }))\n    const at = Date.now()`),
      errors: [{ messageId: "inBody", line: 8, column: 16 }]
    },
    {
      name: "clock read in the execution id",
      code: `${header}
export const shipOrder = Workflow.make(ShipOrder, (request) => \`\${request.orderId}@\${Date.now()}\`, () =>
  Effect.succeed("done"))`,
      errors: [{ messageId: "inExecutionId", line: 5, column: 86 }]
    }
  ]
})
