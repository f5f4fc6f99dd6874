import { defineProject } from "vitest/config"

export default defineProject({
  test: { name: "eslint-plugin", include: ["tests/**/*.test.ts"], testTimeout: 60_000 }
})
