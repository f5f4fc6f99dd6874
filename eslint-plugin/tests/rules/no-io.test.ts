import { noIo } from "../../src/rules/no-io"
import { inBody, ruleTester } from "../ruleTester"

ruleTester.run("no-io", noIo, {
  valid: [
    { name: "building a URL and parsing JSON", code: inBody(`    const url = new URL("https://example.com")\n    const data = JSON.parse("{}")`) },
    { name: "import type of a Node module", code: inBody(`    const options: ReadStreamOptions = {}`, `import type { ReadStreamOptions } from "node:fs"`) },
    {
      name: "fetch inside an activity",
      code: inBody(`    const r = yield* Effect.promise(() => fetch("https://example.com")).pipe(Activity.make("get", Schema.Any))`)
    }
  ],
  invalid: [
    {
      name: "fetch in the body",
      code: inBody(`    const r = yield* Effect.promise(() => fetch("https://example.com"))`),
      errors: [{ messageId: "inBody", line: 7, column: 43 }]
    },
    {
      name: "node:fs through a namespace import",
      code: inBody(`    const text = fs.readFileSync("orders.json", "utf8")`, `import * as fs from "node:fs"`),
      errors: [{ messageId: "inBody", line: 7, column: 18 }]
    },
    {
      name: "child_process and https",
      code: inBody(`    execSync("ls")\n    https.get("https://example.com")`, `import { execSync } from "node:child_process"\nimport * as https from "node:https"`),
      errors: [{ messageId: "inBody", line: 7, column: 5 }, { messageId: "inBody", line: 8, column: 5 }]
    },
    {
      name: "Effect FileSystem call",
      code: inBody(
        `    const fs = yield* FileSystem.FileSystem\n    const text = yield* fs.readFileString("orders.json")`,
        `import * as FileSystem from "effect/FileSystem"`
      ),
      errors: [{ messageId: "inBody", line: 8, column: 25 }]
    },
    {
      name: "Effect.runPromise inside the body",
      code: inBody(`    const n = yield* Effect.promise(() => Effect.runPromise(Effect.succeed(1)))`),
      errors: [{ messageId: "inBody", line: 7, column: 43 }]
    }
  ]
})
