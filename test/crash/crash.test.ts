import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { SqliteJournal } from "@waymark/sqlite"

const child = join(import.meta.dirname, "child.ts")

interface ChildExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
}

/** Runs the engine child process to its end (or its SIGKILL). */
const runChild = (env: Record<string, string>): Promise<ChildExit> =>
  new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, ["--import", "tsx", child], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let stderr = ""
    process_.stderr.on("data", (chunk) => (stderr += String(chunk)))
    const timer = setTimeout(() => process_.kill("SIGKILL"), 30_000)
    process_.on("error", reject)
    process_.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stderr })
    })
  })

let folder: string
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "waymark-crash-"))
})
afterEach(() => {
  rmSync(folder, { recursive: true, force: true })
})

const effectLines = () =>
  readFileSync(join(folder, "effects.log"), "utf8").trim().split("\n").map((line) => {
    const [name, attempt, key] = line.split(" ")
    return { name, attempt: Number(attempt), key }
  })

const readJournal = (executionId: string) =>
  Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const journal = yield* SqliteJournal.make({ filename: join(folder, "journal.sqlite") })
      const record = yield* journal.find(executionId)
      const entries = yield* journal.read(executionId)
      return { record, kinds: entries.map((entry) => entry.kind) }
    }))
  )

/** Kills the engine at `killAt`, restarts it without sending again, and returns what happened. */
const crashAndRecover = async (killAt: string) => {
  const env = {
    WAYMARK_DB: join(folder, "journal.sqlite"),
    WAYMARK_EFFECTS: join(folder, "effects.log"),
    WAYMARK_ORDER: "o-1"
  }
  const killed = await runChild({ ...env, WAYMARK_SEND: "1", WAYMARK_KILL_AT: killAt })
  expect(killed.signal, killed.stderr).toBe("SIGKILL")
  const recovered = await runChild(env)
  expect(recovered.code, recovered.stderr).toBe(0)
  const journal = await readJournal("Fulfil@o-1")
  expect(journal.record?.status).toBe("completed")
  return { effects: effectLines(), journal }
}

const runs = (effects: ReturnType<typeof effectLines>, name: string) => effects.filter((line) => line.name === name)

describe("Crash recovery with SIGKILL on SQLite", () => {
  it("re-runs an activity killed before its completion was journaled", async () => {
    const { effects } = await crashAndRecover("BeforeAppend:ActivityCompleted:charge")
    const charges = runs(effects, "charge")
    expect(charges.map((line) => line.attempt)).toEqual([1, 2])
    expect(new Set(charges.map((line) => line.key))).toEqual(new Set(["Fulfil@o-1/charge#1"]))
    expect(runs(effects, "reserve")).toHaveLength(1)
  })

  it("does not re-run an activity whose completion was journaled", async () => {
    const { effects, journal } = await crashAndRecover("AfterAppend:ActivityCompleted:charge")
    expect(runs(effects, "reserve")).toHaveLength(1)
    expect(runs(effects, "charge")).toHaveLength(1)
    expect(runs(effects, "label")).toHaveLength(1)
    expect(runs(effects, "mail")).toHaveLength(1)
    expect(journal.kinds.filter((kind) => kind === "ActivityCompleted")).toHaveLength(4)
  })

  it("counts an attempt cut short inside the activity", async () => {
    const { effects, journal } = await crashAndRecover("ActivityAttempt:charge")
    expect(runs(effects, "charge").map((line) => line.attempt)).toEqual([2])
    expect(journal.kinds).toContain("ActivityAttemptFailed")
  })

  it("recovers a parallel step killed half way", async () => {
    const { effects } = await crashAndRecover("AfterAppend:ActivityCompleted:label")
    expect(runs(effects, "label")).toHaveLength(1)
    expect(runs(effects, "mail").length).toBeGreaterThanOrEqual(1)
    expect(runs(effects, "charge")).toHaveLength(1)
  })

  it("finishes an execution killed before its completion", async () => {
    const { effects, journal } = await crashAndRecover("BeforeAppend:Completed")
    expect(runs(effects, "reserve")).toHaveLength(1)
    expect(runs(effects, "charge")).toHaveLength(1)
    // The outcome of the last activity is written in the same commit as the workflow's completion,
    // so the kill lost it and that one activity ran again.
    expect(effects).toHaveLength(5)
    expect(journal.kinds.at(-1)).toBe("Completed")
    expect(journal.kinds.filter((kind) => kind === "Completed")).toHaveLength(1)
  })

  it("starts an execution killed right after it was recorded", async () => {
    const { effects } = await crashAndRecover("AfterAppend:Started")
    expect(effects.map((line) => line.name).slice(0, 2)).toEqual(["reserve", "charge"])
    expect(effects).toHaveLength(4)
  })
})
