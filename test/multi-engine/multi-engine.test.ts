import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { afterEach, beforeEach, expect, it } from "vitest"
import { PostgresJournal } from "@waymark/postgres"
import { databaseUrl, describePostgres, makeTestSchemaName } from "../support/postgres"
import { startTcpProxy } from "../support/tcpProxy"

const child = join(import.meta.dirname, "engine-child.ts")

interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** Everything the process printed, logs and errors. */
  readonly output: string
}

interface Engine {
  readonly id: string
  readonly exit: Promise<ChildExit>
}

let folder: string
let schema: string

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "waymark-engines-"))
  schema = makeTestSchemaName()
})

afterEach(async () => {
  rmSync(folder, { recursive: true, force: true })
  await dropSchema(schema)
})

const dropSchema = (name: string) =>
  new Promise<void>((resolve) => {
    const psql = spawn("psql", [databaseUrl, "-q", "-c", `DROP SCHEMA IF EXISTS "${name}" CASCADE`], { stdio: "ignore" })
    psql.on("exit", () => resolve())
    psql.on("error", () => resolve())
  })

/** Starts an engine process on the shared journal. */
const startEngine = (id: string, env: Record<string, string>, url = databaseUrl): Engine => {
  const process_ = spawn(process.execPath, ["--import", "tsx", child], {
    env: {
      ...process.env,
      WAYMARK_DB_URL: url,
      WAYMARK_SCHEMA: schema,
      WAYMARK_ENGINE_ID: id,
      WAYMARK_EFFECTS: join(folder, "effects.log"),
      ...env
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  // Logs go to standard output and errors to standard error, so the tests read both as one text.
  let output = ""
  process_.stdout.on("data", (chunk) => (output += String(chunk)))
  process_.stderr.on("data", (chunk) => (output += String(chunk)))
  const exit = new Promise<ChildExit>((resolve, reject) => {
    const timer = setTimeout(() => process_.kill("SIGKILL"), 60_000)
    process_.on("error", reject)
    process_.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })
  return { id, exit }
}

const effectLines = () =>
  readFileSync(join(folder, "effects.log"), "utf8").trim().split("\n").map((line) => {
    const [name, attempt, key, engine] = line.split(" ")
    return { name, attempt: Number(attempt), key, engine }
  })

/** Reads every execution of the test's schema with its event kinds. */
const readJournal = () =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const journal = yield* PostgresJournal.make({ schema })
    const records = yield* journal.list()
    return yield* Effect.forEach(records, (record) =>
      Effect.map(journal.read(record.executionId), (entries) => ({
        record,
        events: entries.map((entry) => JSON.parse(entry.data) as { _tag: string; activity?: string })
      })))
  })))

const completions = (events: ReadonlyArray<{ _tag: string; activity?: string }>, activity: string) =>
  events.filter((event) => event._tag === "ActivityCompleted" && event.activity === activity).length

describePostgres("Engine processes sharing one Postgres journal", () => {
  it("starts one execution for a request sent by two engines at once", async () => {
    const engines = ["a", "b"].map((id) => startEngine(id, { WAYMARK_SEND: "o-1", WAYMARK_EXPECT: "1" }))
    const exits = await Promise.all(engines.map((engine) => engine.exit))
    for (const exit of exits) expect(exit.code, exit.output).toBe(0)
    const journal = await readJournal()
    expect(journal).toHaveLength(1)
    expect(journal[0]?.record.status).toBe("completed")
    const effects = effectLines()
    expect(effects.filter((line) => line.name === "reserve")).toHaveLength(1)
    expect(effects.filter((line) => line.name === "charge")).toHaveLength(1)
  })

  it("hands a killed engine's executions to the others", async () => {
    const orders = ["o-1", "o-2", "o-3", "o-4"]
    const survivors = ["b", "c"].map((id) => startEngine(id, { WAYMARK_EXPECT: String(orders.length) }))
    const victim = startEngine("a", {
      WAYMARK_SEND: orders.join(","),
      WAYMARK_EXPECT: String(orders.length),
      WAYMARK_KILL_AT: "ActivityAttempt:charge"
    })
    const killed = await victim.exit
    expect(killed.signal, killed.output).toBe("SIGKILL")
    for (const exit of await Promise.all(survivors.map((engine) => engine.exit))) {
      expect(exit.code, exit.output).toBe(0)
    }
    const journal = await readJournal()
    expect(journal.map((entry) => entry.record.status)).toEqual(orders.map(() => "completed"))
    for (const { events, record } of journal) {
      expect(completions(events, "charge"), record.executionId).toBe(1)
      expect(events.filter((event) => event._tag === "Completed"), record.executionId).toHaveLength(1)
    }
    const charges = effectLines().filter((line) => line.name === "charge")
    // Engine a died inside the charge, before its side effect, so every charge ran on b or c.
    expect(charges.map((line) => line.key).sort()).toEqual(orders.map((id) => `Fulfil@${id}/charge#1`).sort())
    expect(charges.every((line) => line.engine !== "a")).toBe(true)
  })

  it("survives a Postgres outage during a run", async () => {
    const target = new URL(databaseUrl)
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    try {
      const viaProxy = new URL(databaseUrl)
      viaProxy.hostname = "127.0.0.1"
      viaProxy.port = String(proxy.port)
      const orders = ["o-1", "o-2", "o-3"]
      const engine = startEngine("a", { WAYMARK_SEND: orders.join(","), WAYMARK_EXPECT: "3" }, viaProxy.toString())
      // Cut the connections once the run is under way: the first side effect has happened.
      while (!existsSync(join(folder, "effects.log"))) await new Promise((resolve) => setTimeout(resolve, 10))
      proxy.cut()
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      proxy.restore()
      const exit = await engine.exit
      expect(exit.code, exit.output).toBe(0)
      expect(exit.output).toContain("WARN")
      const journal = await readJournal()
      expect(journal.map((entry) => entry.record.status)).toEqual(orders.map(() => "completed"))
      for (const { events, record } of journal) {
        for (const activity of ["reserve", "charge", "ship"]) {
          expect(completions(events, activity), `${record.executionId} ${activity}`).toBe(1)
        }
      }
    } finally {
      await proxy.close()
    }
  })
})
