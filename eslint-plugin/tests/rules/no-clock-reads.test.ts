import { noClockReads } from "../../src/rules/no-clock-reads"
import { header, inBody, ruleTester } from "../ruleTester"

/** A cycle's chain follows the path the analysis walked first, which is the longest one here. */
const stepChain = (hidden: number, steps: ReadonlyArray<number>): string =>
  ` through ${hidden} more helper calls, ` +
  steps.map((step) => `called from \`step${step}()\` (src/callGraphs.ts:${4 * step + 2})`).join(", ")

ruleTester.run("no-clock-reads", noClockReads, {
  valid: [
    { name: "new Date with an argument", code: inBody(`    const at = new Date(request.at)`) },
    { name: "Date.UTC and Date.parse", code: inBody(`    const a = Date.UTC(2024, 1); const b = Date.parse("2024-01-01")`) },
    { name: "Duration values", code: inBody(`    const d = Duration.seconds(5)`, `import * as Duration from "effect/Duration"`) },
    { name: "clock read inside an activity", code: inBody(`    const at = yield* Effect.sync(() => Date.now()).pipe(Activity.make("read-clock", Schema.Number))`) },
    { name: "clock read inside a curried activity", code: inBody(`    const at = yield* Activity.make("read-clock", Schema.Number)(Effect.sync(() => Date.now()))`) },
    {
      name: "activity factory stored in a variable",
      code: inBody(`    const asClock = Activity.make("clock", Schema.Number)\n    const at = yield* Effect.sync(() => Date.now()).pipe(asClock)\n    const at2 = yield* asClock(Effect.sync(() => Date.now()))`)
    },
    {
      name: "module-level activity factory",
      code: inBody(`    const at = yield* Effect.sync(() => Date.now()).pipe(readClock)`, `const readClock = Activity.make("clock", Schema.Number)`)
    },
    {
      name: "local effect run as an activity",
      code: inBody(`    const read = Effect.sync(() => Date.now())\n    const at = yield* read.pipe(Activity.make("clock", Schema.Number))`)
    },
    {
      name: "effect passed to an activity wrapper",
      code: inBody(`    const at = yield* durable("clock", Effect.sync(() => Date.now()))`, `const durable = (name: string, effect: Effect.Effect<number>) => effect.pipe(Activity.make(name, Schema.Number))`)
    },
    {
      name: "class method never called",
      code: inBody(`    const later = new Later()`, `class Later { read(): number { return Date.now() } }`)
    },
    { name: "activity helper reading the clock", code: inBody(`    const id = yield* chargeCard(request.orderId)`) },
    { name: "pure function named now", code: inBody(`    const at = now(request.at)`, `import { now } from "./src/clock"`) },
    { name: "helper tagged deterministic", code: inBody(`    const at = vouchedTime()`, `import { vouchedTime } from "./src/clock"`) },
    {
      name: "other property of a module object",
      code: inBody(`    const n = utils.add(1, 2)\n    const m = utils["add"](3, 4)`, `const utils = { add: (a: number, b: number) => a + b, stamp: () => Date.now(), startedAt: Date.now() }`)
    },
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
      name: "mutually recursive helpers",
      code: inBody(`    const a = step1(3)\n    const b = step5(3)`, `import { step1, step5 } from "./src/callGraphs"`),
      errors: [
        { messageId: "inBody", line: 7, column: 15, data: { api: "Date.now()", chain: stepChain(4, [8, 7, 6, 5, 4, 3, 2, 1]), workflow: "shipOrder" } },
        { messageId: "inBody", line: 8, column: 15, data: { api: "Date.now()", chain: stepChain(5, [7, 6, 5, 4, 3, 2, 1, 5]), workflow: "shipOrder" } }
      ]
    },
    {
      name: "chain deeper than maxDepth",
      code: inBody(`    const at = chain1()`, `import { chain1 } from "./src/callGraphs"`),
      errors: [{
        messageId: "inBody",
        line: 7,
        column: 16,
        data: {
          api: "Date.now()",
          chain: " through 2 more helper calls, called from `chain8()` (src/callGraphs.ts:103), called from `chain7()` " +
            "(src/callGraphs.ts:104), called from `chain6()` (src/callGraphs.ts:105), called from `chain5()` " +
            "(src/callGraphs.ts:106), called from `chain4()` (src/callGraphs.ts:107), called from `chain3()` " +
            "(src/callGraphs.ts:108), called from `chain2()` (src/callGraphs.ts:109), called from `chain1()` " +
            "(src/callGraphs.ts:110)",
          workflow: "shipOrder"
        }
      }]
    },
    {
      name: "module object property reading the clock",
      code: inBody(`    const a = utils.stamp()\n    const b = utils.startedAt`, `const utils = { add: (a: number, b: number) => a + b, stamp: () => Date.now(), startedAt: Date.now() }`),
      errors: [
        { messageId: "inBody", line: 7, column: 15, data: { api: "Date.now()", chain: " in `utils.stamp()` (file.ts:11)", workflow: "shipOrder" } },
        { messageId: "inBody", line: 8, column: 15, data: { api: "Date.now()", chain: " in `utils.startedAt` (file.ts:11)", workflow: "shipOrder" } }
      ]
    },
    {
      name: "whole module object used",
      code: inBody(`    const all = Object.values(utils)`, `const utils = { add: (a: number, b: number) => a + b, stamp: () => Date.now(), startedAt: Date.now() }`),
      errors: [{ messageId: "inBody", line: 7, column: 31 }]
    },
    {
      name: "local effect also run outside an activity",
      code: inBody(`    const read = Effect.sync(() => Date.now())\n    const a = yield* read.pipe(Activity.make("clock", Schema.Number))\n    const b = yield* read`),
      errors: [{ messageId: "inBody", line: 7, column: 36 }]
    },
    {
      name: "wrapper argument used outside the activity",
      code: inBody(`    const at = yield* leaky("clock", Effect.sync(() => Date.now()))`, `const durable = (name: string, effect: Effect.Effect<number>) => effect.pipe(Activity.make(name, Schema.Number))\nconst leaky = (name: string, effect: Effect.Effect<number>) => Effect.zip(effect, durable(name, effect))`),
      errors: [{ messageId: "inBody", line: 7, column: 56 }]
    },
    {
      name: "field initializer, getter and constructor",
      code: inBody(`    const a = new Stamped().at\n    const b = new Clock().now\n    const c = new Started().at\n    const d = new Timed().at`, `class Stamped { readonly at = Date.now() }\nclass Clock { get now(): number { return Date.now() } }\nclass Started { at: number; constructor() { this.at = Date.now() } }\nclass Timed extends Started { constructor() { super() } }`),
      errors: [
        { messageId: "inBody", line: 7, column: 15, data: { api: "Date.now()", chain: " in `new Stamped()` (file.ts:13)", workflow: "shipOrder" } },
        { messageId: "inBody", line: 8, column: 15, data: { api: "Date.now()", chain: " in `now()` (file.ts:14)", workflow: "shipOrder" } },
        { messageId: "inBody", line: 9, column: 15, data: { api: "Date.now()", chain: " in `new Started()` (file.ts:15)", workflow: "shipOrder" } },
        { messageId: "inBody", line: 10, column: 15, data: { api: "Date.now()", chain: " in `new Started()` (file.ts:15), called from `new Timed()` (file.ts:16)", workflow: "shipOrder" } }
      ]
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
