/**
 * Runs the example as a user would (`tsx src/main.ts`) and checks its exit code and output.
 */
import { describe, expect, it } from "vitest"
import { countMatches, runExample } from "./run-example"

describe("payment example", () => {
  it("kill-after-charge charges the card once", async () => {
    const { code, output } = await runExample()

    expect(output).toMatch(/^Journal: SQLite file .*payment-kill-after-charge\.db$/m)
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
    const { code, output } = await runExample(["--scenario", "out-of-stock"])

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
    const { code, output } = await runExample(["--scenario", "card-declined"])

    expect(output).toMatch(/ActivityCompleted\s+charge-credit-card\s+1\s+failure PaymentDeclined/)
    expect(output).toContain("ok    charges: 0, expected 0")
    expect(output).toContain("ok    workflow result: false, expected false")
    expect(output).not.toContain("FAIL")
    expect(code).toBe(0)
  })

  it("unknown scenario exits with code 2", async () => {
    const { code, output } = await runExample(["--scenario", "no-such-scenario"])

    expect(output).toContain('Unknown scenario "no-such-scenario"')
    expect(code).toBe(2)
  })

  it("unknown journal exits with code 2", async () => {
    const { code, output } = await runExample(["--journal", "mysql"])

    expect(output).toContain('Unknown journal "mysql". Valid journals: sqlite, postgres.')
    expect(code).toBe(2)
  })

  it("--schema without postgres exits with code 2", async () => {
    const { code, output } = await runExample(["--schema", "payments"])

    expect(output).toContain("--schema is valid only with --journal postgres.")
    expect(code).toBe(2)
  })

  it("invalid schema name exits with code 2", async () => {
    const { code, output } = await runExample(["--journal", "postgres", "--schema", "payments; DROP"])

    expect(output).toContain('Invalid schema name "payments; DROP"')
    expect(code).toBe(2)
  })
})
