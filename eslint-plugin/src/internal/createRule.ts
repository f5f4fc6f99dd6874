import { ESLintUtils } from "@typescript-eslint/utils"

/** The extra `meta.docs` fields of this plugin's rules. */
export interface WaymarkRuleDocs {
  /** Whether `configs.recommended` turns the rule on. */
  readonly recommended: boolean
  readonly requiresTypeChecking: boolean
}

/** Creates a rule whose documentation page is in this package's `docs/rules` folder. */
export const createRule = ESLintUtils.RuleCreator<WaymarkRuleDocs>(
  (name) => `https://github.com/waymark/waymark/blob/main/eslint-plugin/docs/rules/${name}.md`
)
