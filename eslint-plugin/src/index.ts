/**
 * Waymark's ESLint plugin: rules that flag code in workflow bodies and execution-id functions that
 * can make a replay take another path than the first run.
 *
 * @since 0.1.0
 */
import type { TSESLint } from "@typescript-eslint/utils"
import { durableActivityNames } from "./rules/durable-activity-names"
import { noClockReads } from "./rules/no-clock-reads"
import { noEnvironmentReads } from "./rules/no-environment-reads"
import { noGcObservation } from "./rules/no-gc-observation"
import { noInMemoryTimers } from "./rules/no-in-memory-timers"
import { noIo } from "./rules/no-io"
import { noRaces } from "./rules/no-races"
import { noRandomness } from "./rules/no-randomness"
import { noRetryAroundActivity } from "./rules/no-retry-around-activity"
import { noSharedState } from "./rules/no-shared-state"

/**
 * The plugin's rules, by name.
 *
 * @since 0.1.0
 */
export const rules = {
  "no-clock-reads": noClockReads,
  "no-randomness": noRandomness,
  "no-environment-reads": noEnvironmentReads,
  "no-io": noIo,
  "no-in-memory-timers": noInMemoryTimers,
  "no-races": noRaces,
  "no-shared-state": noSharedState,
  "durable-activity-names": durableActivityNames,
  "no-retry-around-activity": noRetryAroundActivity,
  "no-gc-observation": noGcObservation
}

const plugin = {
  meta: { name: "@waymark/eslint-plugin", version: "0.1.0" },
  rules,
  configs: {} as { recommended: TSESLint.FlatConfig.ConfigArray }
}

/**
 * The recommended flat configuration: registers the plugin as `waymark` and turns every rule on as
 * an error. The rules need type information, so the project's configuration sets
 * `languageOptions.parserOptions.projectService: true` (see the README).
 *
 * @since 0.1.0
 */
plugin.configs.recommended = [
  {
    name: "waymark/recommended",
    // TypeScript files only: the rules need type information, which a JavaScript config file has not.
    files: ["**/*.ts", "**/*.tsx", "**/*.mts", "**/*.cts"],
    plugins: { waymark: plugin as unknown as TSESLint.FlatConfig.Plugin },
    rules: Object.fromEntries(Object.keys(rules).map((name) => [`waymark/${name}`, "error"]))
  }
]

export default plugin
