/**
 * Starts `engine-process.ts` as a child process and waits for it to exit.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as Schema from "effect/Schema"
import { journalEnvironment, type JournalSettings } from "./journal-settings"
import { ProcessPayment } from "./workflow"

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const engineScript = path.join(exampleDir, "src", "engine-process.ts")

const encodeRequest = Schema.encodeSync(Schema.fromJsonString(ProcessPayment))

export interface EngineChildOptions {
  /** The prefix of the child's output lines. */
  readonly label: string
  readonly journal: JournalSettings
  readonly orderApiUrl: string
  readonly paymentGatewayUrl: string
  readonly shippingApiUrl: string
  readonly mailServiceUrl: string
  /** A request to send. Without one, the process only resumes what the journal contains. */
  readonly request?: ProcessPayment | undefined
  /** The execution to wait for when no request is sent. */
  readonly executionId?: string | undefined
}

/** The end of an engine process: its exit code, or the signal that killed it. */
export interface EngineExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface EngineChild {
  readonly process: ChildProcess
  /** Settles when the process has exited. */
  readonly exited: Promise<EngineExit>
}

/**
 * Spawns the engine process with Node and tsx. Its output goes straight to this process's stdout
 * and stderr, so its lines and ours appear in the order they were written.
 */
export const spawnEngine = (options: EngineChildOptions): EngineChild => {
  const child = spawn(process.execPath, ["--import", "tsx", engineScript], {
    // tsx is resolved from here, so the example runs from any working directory.
    cwd: exampleDir,
    // The IPC channel is only there to close when this process dies, so the engine stops too.
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: {
      ...process.env,
      ENGINE_LABEL: options.label,
      ...journalEnvironment(options.journal),
      ORDER_API_URL: options.orderApiUrl,
      PAYMENT_GATEWAY_URL: options.paymentGatewayUrl,
      SHIPPING_API_URL: options.shippingApiUrl,
      MAIL_SERVICE_URL: options.mailServiceUrl,
      ...(options.request === undefined ? {} : { PAYMENT_REQUEST: encodeRequest(options.request) }),
      ...(options.executionId === undefined ? {} : { PAYMENT_EXECUTION_ID: options.executionId })
    }
  })
  const exited = new Promise<EngineExit>((resolve, reject) => {
    child.once("error", reject)
    child.once("exit", (code, signal) => resolve({ code, signal }))
  })
  return { process: child, exited }
}

/**
 * Waits for the child to exit. After `timeoutMillis`, kills it with SIGKILL and rejects, so a hung
 * engine cannot hang the example.
 */
export const waitForExit = async (child: EngineChild, timeoutMillis: number): Promise<EngineExit> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.process.kill("SIGKILL")
      reject(new Error(`The engine process (pid ${child.process.pid}) did not exit within ${timeoutMillis} ms, so it was killed with SIGKILL.`))
    }, timeoutMillis)
  })
  try {
    return await Promise.race([child.exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}
