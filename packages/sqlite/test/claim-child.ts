/**
 * One engine process of the concurrent claim test, run with `node --import tsx`.
 *
 * It prints `ready` once its modules are loaded and waits for a line on stdin, so that the test can
 * start all processes at the same moment. It then opens the journal in `WAYMARK_DB` (migrating it
 * if needed), claims executions as `WAYMARK_ENGINE` in batches of 5 until none is left, and prints
 * the claimed ids as one JSON array.
 */
import * as Effect from "effect/Effect"
import { SqliteJournal } from "../src/index"

const filename = process.env["WAYMARK_DB"]
const engineId = process.env["WAYMARK_ENGINE"]
if (filename === undefined || engineId === undefined) {
  throw new Error("Missing environment variable: set WAYMARK_DB (the journal file) and WAYMARK_ENGINE (the engine id)")
}

const claimAll = Effect.gen(function*() {
  const journal = yield* SqliteJournal.make({ filename })
  const claimed: Array<string> = []
  while (true) {
    const batch = yield* journal.claim({ engineId, leaseMs: 60_000, limit: 5 })
    if (batch.length === 0) return claimed
    claimed.push(...batch.map((record) => record.executionId))
    // An engine polls, so it leaves the write lock free between claims. Without this pause one
    // process usually takes every claim. SQLite's write lock has no queue, so a waiting connection
    // sleeps and retries, and a connection that requests the lock right after its commit gets it.
    yield* Effect.sleep("2 millis")
  }
}).pipe(Effect.scoped)

process.stdout.write("ready\n")
process.stdin.once("data", () => {
  process.stdin.pause()
  Effect.runPromise(claimAll).then(
    (claimed) => process.stdout.write(`${JSON.stringify(claimed)}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`)
      process.exitCode = 1
    }
  )
})
