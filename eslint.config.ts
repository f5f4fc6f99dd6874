// Lints the examples with Waymark's own determinism rules, as a user's project would.
import tsParser from "@typescript-eslint/parser"
import waymark from "@waymark/eslint-plugin"

const files = ["examples/*/src/**/*.ts"]

export default [
  {
    files,
    languageOptions: {
      parser: tsParser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    }
  },
  ...waymark.configs.recommended.map((config) => ({ ...config, files }))
]
