import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { RuleTester } from "@typescript-eslint/rule-tester"
import { afterAll, describe, it } from "vitest"

RuleTester.afterAll = afterAll
RuleTester.describe = describe
RuleTester.it = it
RuleTester.itOnly = it.only

/** The fixture project that typed rules are tested in; test code is linted as its `file.ts`. */
export const fixtureDirectory = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures")

/** A rule tester that lints code as `tests/fixtures/file.ts` with type information. */
export const ruleTester = new RuleTester({
  languageOptions: {
    parserOptions: {
      project: "./tsconfig.json",
      tsconfigRootDir: fixtureDirectory
    }
  }
})

/** Imports that most test cases start with, on lines 1 to 4. */
export const header = [
  `import * as Effect from "effect/Effect"`,
  `import * as Schema from "effect/Schema"`,
  `import { Activity, Workflow } from "@waymark/runtime"`,
  `import { ShipOrder, chargeCard, reserveItem } from "./src/requests"`
].join("\n")

/**
 * Wraps statements in a workflow body: the header, then `Workflow.make` on line 5, so the first
 * line of `statements` is line 7. `extraImports` go after the workflow, where they do not move it.
 */
export const inBody = (statements: string, extraImports = ""): string =>
  `${header}
export const shipOrder = Workflow.make(ShipOrder, (request) => request.orderId, (request) =>
  Effect.gen(function*() {
${statements}
    return "done"
  }))
${extraImports}
`
