/**
 * Runs the example as a user would (`tsx src/main.ts`) and checks its exit code and output.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

interface RunResult {
  readonly code: number | null
  readonly output: string
}

// Shorter than the test timeout, so that a hung run fails with its output instead of a bare timeout.
const RUN_TIMEOUT_MILLIS = 25_000

/**
 * Runs `tsx src/main.ts` with `args` and returns its exit code and its stdout and stderr together.
 * Kills the run with SIGKILL after `RUN_TIMEOUT_MILLIS`, and its engine processes then stop too.
 */
const runExample = (...args: ReadonlyArray<string>): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], { cwd: exampleDir })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`The example did not exit within ${RUN_TIMEOUT_MILLIS} ms. Output so far:\n${output}`))
    }, RUN_TIMEOUT_MILLIS)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })

const countMatches = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0

describe("payment example", () => {
  it("kill-after-charge charges the card once", async () => {
    const { code, output } = await runExample()

    expect(output).toContain("[main] killed engine 1")
    expect(countMatches(output, /\[gateway\] recorded charge/g)).toBe(1)
    expect(output).toContain("[gateway] repeated charge request (same idempotency key)")
    expect(output).toContain("[engine 2] charge-credit-card, attempt 2")
    expect(output).toMatch(/\[engine 2\] execution ProcessPayment@order-1001 completed: success true/)
    expect(output).toMatch(/ActivityAttemptFailed\s+charge-credit-card\s+1\s+the engine stopped during the attempt/)
    expect(output).toContain("ok    charges: 1, expected 1")
    expect(output).toContain("ok    execution status: completed, expected completed")
    expect(output).not.toContain("FAIL")
    expect(code).toBe(0)
  })

  it("out-of-stock refunds the charge", async () => {
    const { code, output } = await runExample("--scenario", "out-of-stock")

    expect(output).not.toContain("killed engine")
    expect(output).toMatch(/ActivityCompleted\s+create-shipping-tracking-code\s+1\s+failure OutOfStock/)
    expect(output).toMatch(/ActivityCompleted\s+refund-credit-card\s+1\s+success/)
    expect(output).toMatch(/re_0001\s+129\.90\s+of ch_0001/)
    expect(output).toContain("ok    charges: 1, expected 1")
    expect(output).toContain("ok    refunds: 1, expected 1")
    expect(output).toContain("ok    workflow result: false, expected false")
    expect(output).not.toContain("FAIL")
    expect(code).toBe(0)
  })

  it("card-declined charges nothing", async () => {
    const { code, output } = await runExample("--scenario", "card-declined")

    expect(output).toMatch(/ActivityCompleted\s+charge-credit-card\s+1\s+failure PaymentDeclined/)
    expect(output).toContain("ok    charges: 0, expected 0")
    expect(output).toContain("ok    workflow result: false, expected false")
    expect(output).not.toContain("FAIL")
    expect(code).toBe(0)
  })

  it("unknown scenario exits with code 2", async () => {
    const { code, output } = await runExample("--scenario", "no-such-scenario")

    expect(output).toContain('Unknown scenario "no-such-scenario"')
    expect(code).toBe(2)
  })
})
