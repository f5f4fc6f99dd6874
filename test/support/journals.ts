/**
 * The journal backends every runtime test runs on. Each factory makes a fresh, empty journal that
 * lives as long as the scope.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type DurableExecutionJournal, InMemoryJournal } from "@waymark/runtime"
import { SqliteJournal } from "@waymark/sqlite"

export interface JournalBackend {
  readonly name: string
  readonly make: () => Effect.Effect<DurableExecutionJournal.Journal, unknown, Scope.Scope>
}

/** A SQLite journal in a fresh temporary folder, removed when the scope closes. */
const sqlite = (): Effect.Effect<DurableExecutionJournal.Journal, unknown, Scope.Scope> =>
  Effect.gen(function*() {
    const folder = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "waymark-test-"))),
      (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
    )
    return yield* SqliteJournal.make({ filename: join(folder, "journal.sqlite") })
  })

export const backends: ReadonlyArray<JournalBackend> = [
  { name: "in-memory", make: () => Effect.sync(InMemoryJournal.make) },
  { name: "sqlite", make: sqlite }
]
