import type { TSESLint } from "@typescript-eslint/utils"

/** A function that defines workflows: the module that exports it, and where its functions go. */
export interface WorkflowFactory {
  /** The module specifier, resolved from the linted file, for example `@waymark/runtime`. */
  readonly module: string
  /** The export path inside the module, for example `Workflow.make`. */
  readonly export: string
  /** The index of the argument that is the workflow body. */
  readonly bodyArgument: number
  /** The index of the argument that computes the execution id, if the factory takes one. */
  readonly executionIdArgument?: number
}

/** The `settings.waymark` object of an ESLint configuration. */
export interface WaymarkSettings {
  /** Factories checked besides Waymark's `Workflow.make` and effect's `effect/workflow` preset. */
  readonly workflowFactories: ReadonlyArray<WorkflowFactory>
  /** How many helpers a message's chain shows; deeper helpers are still analysed and counted. Default: 8. */
  readonly maxDepth: number
}

export const waymarkWorkflowFactory: WorkflowFactory = {
  module: "@waymark/runtime",
  export: "Workflow.make",
  bodyArgument: 2,
  executionIdArgument: 1
}

/** Reads `settings.waymark`, falling back to the defaults for missing or invalid fields. */
export const readSettings = (settings: TSESLint.SharedConfigurationSettings): WaymarkSettings => {
  const raw = (settings["waymark"] ?? {}) as Partial<WaymarkSettings>
  const extra = Array.isArray(raw.workflowFactories) ? raw.workflowFactories : []
  return {
    workflowFactories: [waymarkWorkflowFactory, ...extra],
    maxDepth: typeof raw.maxDepth === "number" && raw.maxDepth >= 0 ? raw.maxDepth : 8
  }
}
