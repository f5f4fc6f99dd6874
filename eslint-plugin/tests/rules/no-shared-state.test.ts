import { noSharedState } from "../../src/rules/no-shared-state"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-shared-state", noSharedState, {
  valid: [
    { name: "state local to the body", code: inBody(`    let total = 0\n    total += 1\n    const items: Array<string> = []\n    items.push("a")`) },
    { name: "reading a module constant", code: `const limit = 3\n${inBody(`    const n = limit + 1`)}` }
  ],
  invalid: [
    {
      name: "module-level let reassigned",
      code: inBody(`    attempts += 1`, `let attempts = 0`),
      errors: [{ messageId: "reassigned", line: 7, column: 5 }]
    },
    {
      name: "module-level array and Map mutated",
      code: inBody(`    log.push(request.orderId)\n    cache.set(request.orderId, 1)`, `const log: Array<string> = []\nconst cache = new Map<string, number>()`),
      errors: [{ messageId: "mutated", line: 7, column: 5 }, { messageId: "mutated", line: 8, column: 5 }]
    },
    {
      name: "module-level object property assigned",
      code: inBody(`    stats.count = 1`, `const stats = { count: 0 }`),
      errors: [{ messageId: "mutated", line: 7, column: 5 }]
    },
    {
      name: "globalThis property assigned",
      code: inBody(`    ;(globalThis as any).lastOrder = request.orderId`),
      errors: [{ messageId: "mutated", line: 7, column: 6 }]
    },
    {
      name: "imported Map and object mutated",
      code: inBody(`    cache.set(request.orderId, 1)\n    config.retries = 5`, `import { cache, config } from "./src/state"`),
      errors: [{ messageId: "mutated", line: 7, column: 5 }, { messageId: "mutated", line: 8, column: 5 }]
    },
    {
      name: "helper in another file increments a counter",
      code: inBody(`    const n = nextCount()`, `import { nextCount } from "./src/state"`),
      errors: [{
        messageId: "reassigned",
        line: 7,
        column: 15,
        data: { variable: "counter", chain: " in `nextCount()` (src/state.ts:6)", workflow: "shipOrder" }
      }]
    }
  ]
})
