/**
 * Runs the example as a user would (`tsx src/main.ts`), for the tests.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export interface RunResult {
  readonly code: number | null
  readonly output: string
}

// Shorter than the test timeout, so that a hung run fails with its output instead of a bare timeout.
const RUN_TIMEOUT_MILLIS = 25_000

/**
 * Runs `tsx src/main.ts` with `args` and returns its exit code and its stdout and stderr together.
 * `environment` is added to this process's environment. Kills the run with SIGKILL after
 * `RUN_TIMEOUT_MILLIS`, and its engine processes then stop too.
 */
export const runExample = (
  args: ReadonlyArray<string> = [],
  environment: Readonly<Record<string, string>> = {}
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
      cwd: exampleDir,
      env: { ...process.env, ...environment }
    })
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

export const countMatches = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0
