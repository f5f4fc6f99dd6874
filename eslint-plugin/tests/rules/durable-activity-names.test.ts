import { durableActivityNames } from "../../src/rules/durable-activity-names"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("durable-activity-names", durableActivityNames, {
  valid: [
    {
      name: "names from the request and loop items",
      code: inBody(`    yield* Effect.forEach(request.items, (item) => reserveItem(item), { concurrency: 4 })`)
    },
    {
      name: "concurrency from a constant of 1",
      code: inBody(`    yield* Effect.forEach(request.items, () => chargeCard(request.orderId), { concurrency: ONE })`, `const ONE = 1`)
    },
    {
      name: "constant name in a sequential loop",
      code: inBody(`    yield* Effect.forEach(request.items, () => chargeCard(request.orderId))`)
    },
    {
      name: "one helper called twice in sequence",
      code: inBody(`    yield* chargeCard("a")\n    yield* chargeCard("b")`)
    },
    {
      name: "name built from a payload field",
      code: inBody(`    yield* Effect.void.pipe(Activity.make(\`notify-\${request.orderId}\`, Schema.Void))`)
    }
  ],
  invalid: [
    {
      name: "name built from the clock",
      code: inBody(`    yield* Effect.void.pipe(Activity.make(\`notify-\${Date.now()}\`, Schema.Void))`),
      errors: [{ messageId: "nameFromApi", line: 7, column: 53 }]
    },
    {
      name: "constant name in a parallel forEach",
      code: inBody(`    yield* Effect.forEach(request.items, () => chargeCard(request.orderId), { concurrency: "unbounded" })`),
      errors: [{
        messageId: "constantNameInParallel",
        line: 7,
        column: 48,
        data: { name: "charge-card", chain: " in `chargeCard()` (src/requests.ts:12)", workflow: "shipOrder" }
      }]
    },
    {
      name: "function reference in a parallel forEach",
      code: inBody(`    yield* Effect.forEach(request.items, chargeCard, { concurrency: 4 })`),
      errors: [{
        messageId: "constantNameInParallel",
        line: 7,
        column: 42,
        data: { name: "charge-card", chain: " in `chargeCard()` (src/requests.ts:12)", workflow: "shipOrder" }
      }]
    },
    {
      name: "constant name in a parallel Effect.all over a map",
      code: inBody(`    yield* Effect.all(request.items.map(() => Effect.void.pipe(Activity.make("mark", Schema.Void))), { concurrency: 2 })`),
      errors: [{ messageId: "constantNameInParallel", line: 7, column: 64 }]
    },
    {
      name: "one name at two call sites",
      code: inBody(`    yield* chargeCard(request.orderId)\n    yield* Effect.void.pipe(Activity.make("charge-card", Schema.Void))`),
      errors: [{ messageId: "duplicateName", line: 8, column: 29 }]
    }
  ]
})
