import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { fromEntry, toEntry } from "../src/JournalEvent"

const entryOf = (data: string, kind = "ActivityCompleted") => ({
  executionId: "Pay@order-1",
  sequence: 3,
  recordedAt: 0,
  kind,
  data
})

describe("JournalEvent", () => {
  it("round-trips an event through an entry", () => {
    const event = {
      _tag: "ActivityCompleted",
      step: "charge#1",
      activity: "charge",
      attempt: 2,
      outcome: { _tag: "Success", value: { id: "c-1" } }
    } as const
    const decoded = Effect.runSync(fromEntry({ ...toEntry(event, 42), executionId: "Pay@order-1", sequence: 3 }))
    expect(decoded.event).toEqual(event)
    expect(decoded.recordedAt).toBe(42)
    expect(decoded.sequence).toBe(3)
  })

  it("rejects corrupt JSON with the stored text", () => {
    const error = Effect.runSync(Effect.flip(fromEntry(entryOf("{not json"))))
    expect(error._tag).toBe("JournalDecodeError")
    expect(error.executionId).toBe("Pay@order-1")
    expect(error.sequence).toBe(3)
    expect(error.message).toContain("{not json")
    expect(error.message).toContain("not valid JSON")
  })

  it("rejects an unknown event kind", () => {
    const error = Effect.runSync(Effect.flip(fromEntry(entryOf(`{"_tag":"Teleported"}`, "Teleported"))))
    expect(error.message).toContain("Teleported")
    expect(error.issue).toContain("does not match any known event kind")
  })

  it("rejects a kind column that disagrees with the body", () => {
    const error = Effect.runSync(Effect.flip(fromEntry(entryOf(`{"_tag":"Resumed","from":"paused"}`))))
    expect(error.issue).toContain(`kind is "ActivityCompleted"`)
  })
})
