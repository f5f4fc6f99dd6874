import { defineProject } from "vitest/config"

export default defineProject({
  test: { testTimeout: 30_000, hookTimeout: 30_000, name: "sqlite", include: ["test/**/*.test.ts"] }
})
