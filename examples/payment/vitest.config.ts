import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "example-payment",
    include: ["test/**/*.test.ts"],
    // Each test runs the example end to end: one or two engine processes, each starting tsx.
    testTimeout: 30_000
  }
})
