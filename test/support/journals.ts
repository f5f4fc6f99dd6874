/**
 * The journal backends every runtime test runs on. Each factory makes a fresh, empty journal that
 * lives as long as the scope.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type DurableExecutionJournal, InMemoryJournal } from "@waymark/runtime"

export interface JournalBackend {
  readonly name: string
  readonly make: () => Effect.Effect<DurableExecutionJournal.Journal, unknown, Scope.Scope>
}

export const backends: ReadonlyArray<JournalBackend> = [
  { name: "in-memory", make: () => Effect.sync(InMemoryJournal.make) }
]
