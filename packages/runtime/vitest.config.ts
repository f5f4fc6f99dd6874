import { defineProject } from "vitest/config"

export default defineProject({
  test: { testTimeout: 30_000, hookTimeout: 30_000, name: "runtime", include: ["test/**/*.test.ts"] }
})
