import { noGcObservation } from "../../src/rules/no-gc-observation"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-gc-observation", noGcObservation, {
  valid: [
    { name: "a plain reference", code: inBody(`    const target = { id: request.orderId }\n    const same = target`) },
    { name: "WeakMap is not observation", code: inBody(`    const cache = new WeakMap<object, string>()`) }
  ],
  invalid: [
    {
      name: "WeakRef",
      code: inBody(`    const ref = new WeakRef({ id: request.orderId })`),
      errors: [{ messageId: "inBody", line: 7, column: 17 }]
    },
    {
      name: "FinalizationRegistry",
      code: inBody(`    const registry = new FinalizationRegistry((id: string) => {})`),
      errors: [{ messageId: "inBody", line: 7, column: 22 }]
    }
  ]
})
