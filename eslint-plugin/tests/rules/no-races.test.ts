import { noRaces } from "../../src/rules/no-races"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-races", noRaces, {
  valid: [
    { name: "Promise.all", code: inBody(`    yield* Effect.promise(() => Promise.all([Promise.resolve(1)]))`) },
    {
      name: "race inside an activity",
      code: inBody(`    yield* Effect.race(Effect.succeed(1), Effect.succeed(2)).pipe(Activity.make("fastest", Schema.Number))`)
    }
  ],
  invalid: [
    {
      name: "Promise.race and Promise.any",
      code: inBody(`    yield* Effect.promise(() => Promise.race([Promise.resolve(1)]))\n    yield* Effect.promise(() => Promise.any([Promise.resolve(1)]))`),
      errors: [{ messageId: "inBody", line: 7, column: 33 }, { messageId: "inBody", line: 8, column: 33 }]
    },
    {
      name: "Effect.race between activities",
      code: inBody(`    yield* Effect.race(chargeCard("a"), chargeCard("b"))`),
      errors: [{ messageId: "inBody", line: 7, column: 12 }]
    },
    {
      name: "Effect.raceAll",
      code: inBody(`    yield* Effect.raceAll([reserveItem("a"), reserveItem("b")])`),
      errors: [{ messageId: "inBody", line: 7, column: 12 }]
    }
  ]
})
