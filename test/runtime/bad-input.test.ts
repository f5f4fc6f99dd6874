import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { Activity, Workflow, WorkflowRequest } from "@waymark/runtime"
import { backends } from "../support/journals"
import { awaitStatus, fastRetry, run, seed, withEngine } from "../support/harness"

class Invoice extends WorkflowRequest<Invoice>()("Invoice", {
  payload: { invoiceId: Schema.String, amount: Schema.Number.check(Schema.isGreaterThan(0)) },
  success: Schema.Number
}) {}

const invoiceId = (request: Invoice) => `Invoice@${request.invoiceId}`
const payload = (id: string) => ({ _tag: "Invoice", invoiceId: id, amount: 10 })

const total = Effect.succeed(42).pipe(Activity.make("total", Schema.Number))
const invoice = Workflow.make(Invoice, invoiceId, () => total)

describe.each(backends)("Bad input on the $name journal", (backend) => {
  it("rejects a payload that fails its schema", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const bad = { _tag: "Invoice", invoiceId: "i-1", amount: -5 } as unknown as Invoice
      const error = yield* withEngine(journal, [invoice], (engine) => Effect.flip(engine.send(bad)))
      expect(error._tag).toBe("InvalidPayloadError")
      expect(error.message).toContain(`Invalid payload for workflow "Invoice"`)
      expect(error.message).toContain(`"amount":-5`)
      expect(yield* journal.list()).toEqual([])
    })))

  it("accepts a plain object that matches the schema", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const plain = { _tag: "Invoice", invoiceId: "i-2", amount: 3 } as Invoice
      const result = yield* withEngine(journal, [invoice], (engine) => engine.send(plain))
      expect(result).toBe(42)
    })))

  it("rejects requests without a tag", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      for (const request of [undefined, null, { invoiceId: "i-9", amount: 1 }]) {
        const error = yield* withEngine(journal, [invoice], (engine) =>
          Effect.flip(engine.send(request as unknown as Invoice)))
        expect(error._tag).toBe("UnknownWorkflowError")
        expect(error.message).toContain(`registered: "Invoice"`)
      }
      expect(yield* journal.list()).toEqual([])
    })))

  it("rejects an execution id function that fails", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const throwing = Workflow.make(Invoice, () => {
        throw new Error("no id for you")
      }, () => total)
      const thrown = yield* withEngine(journal, [throwing], (engine) =>
        Effect.flip(engine.send(new Invoice({ invoiceId: "i-10", amount: 1 }))))
      expect(thrown._tag).toBe("InvalidPayloadError")
      expect(thrown.message).toContain("the execution id function threw: Error: no id for you")
      const empty = Workflow.make(Invoice, () => "", () => total)
      const blank = yield* withEngine(journal, [empty], (engine) =>
        Effect.flip(engine.send(new Invoice({ invoiceId: "i-10", amount: 1 }))))
      expect(blank._tag).toBe("InvalidPayloadError")
      expect(blank.message).toContain(`returned "", not a non-empty string`)
      const withNul = Workflow.make(Invoice, () => "Invoice\u0000i-10", () => total)
      const nul = yield* withEngine(journal, [withNul], (engine) =>
        Effect.flip(engine.send(new Invoice({ invoiceId: "i-10", amount: 1 }))))
      expect(nul._tag).toBe("InvalidPayloadError")
      expect(nul.message).toContain("contains a NUL character or a lone surrogate")
      expect(yield* journal.list()).toEqual([])
    })))

  it("rejects two workflows for one tag", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const exit = yield* Effect.exit(withEngine(journal, [invoice, invoice], () => Effect.void))
      expect(exit._tag).toBe("Failure")
      expect(String(exit._tag === "Failure" ? exit.cause : "")).toContain(
          `Two workflows are registered for request tag "Invoice"`
      )
    })))

  it("rejects an unknown workflow tag", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const stranger = { _tag: "Refund", invoiceId: "i-3" } as unknown as Invoice
      const error = yield* withEngine(journal, [invoice], (engine) => Effect.flip(engine.sendDiscard(stranger)))
      expect(error._tag).toBe("UnknownWorkflowError")
      expect(error.message).toContain(`"Refund"`)
      expect(error.message).toContain(`registered: "Invoice"`)
      expect(yield* journal.list()).toEqual([])
    })))

  it("parks on a journal row that does not decode", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      yield* seed(journal, { executionId: "Invoice@i-4", workflow: "Invoice", payload: payload("i-4") })
      yield* journal.append({
        executionId: "Invoice@i-4",
        expectedSequence: 2,
        entries: [{ kind: "ActivityCompleted", data: "{\"_tag\":\"ActivityCompleted\",\"step\":", recordedAt: 1 }]
      })
      const before = yield* journal.read("Invoice@i-4")
      const error = yield* withEngine(journal, [invoice], (engine) =>
        Effect.flip(engine.send(new Invoice({ invoiceId: "i-4", amount: 10 }))))
      expect(error._tag).toBe("ExecutionParkedError")
      expect(error.message).toContain(`Cannot decode the journal of execution "Invoice@i-4" at sequence 2`)
      expect(error.message).toContain(`{"_tag":"ActivityCompleted","step":`)
      expect(yield* journal.read("Invoice@i-4")).toEqual(before)
      expect((yield* journal.find("Invoice@i-4"))?.status).toBe("parked")
    })))

  it("rejects a status row it does not know", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      yield* seed(journal, { executionId: "Invoice@i-11", workflow: "Invoice", payload: payload("i-11") })
      yield* journal.setStatus("Invoice@i-11", { status: "zombie" as never })
      const error = yield* withEngine(journal, [invoice], (engine) =>
        Effect.flip(engine.send(new Invoice({ invoiceId: "i-11", amount: 10 }))))
      expect(error._tag).toBe("JournalDecodeError")
      expect(error.message).toContain(`status "zombie" is not one of running, paused, parked, completed, failed`)
    })))

  it("parks on a recorded result that no longer matches", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      yield* seed(journal, {
        executionId: "Invoice@i-5",
        workflow: "Invoice",
        payload: payload("i-5"),
        events: [
          { _tag: "ActivityAttempted", step: "total#1", activity: "total", attempt: 1 },
          {
            _tag: "ActivityCompleted",
            step: "total#1",
            activity: "total",
            attempt: 1,
            outcome: { _tag: "Success", value: "forty-two" }
          }
        ]
      })
      const before = yield* journal.read("Invoice@i-5")
      yield* withEngine(journal, [invoice], () => awaitStatus(journal, "Invoice@i-5", "parked"))
      const record = yield* journal.find("Invoice@i-5")
      expect(record?.statusDetail).toContain(`recorded success of activity "total"`)
      expect(record?.statusDetail).toContain(`"forty-two"`)
      expect(yield* journal.read("Invoice@i-5")).toEqual(before)
    })))

  it("parks on a recorded payload that no longer matches", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      yield* seed(journal, {
        executionId: "Invoice@i-6",
        workflow: "Invoice",
        payload: { _tag: "Invoice", invoiceId: "i-6", amount: "ten" }
      })
      yield* withEngine(journal, [invoice], () => awaitStatus(journal, "Invoice@i-6", "parked"))
      const record = yield* journal.find("Invoice@i-6")
      expect(record?.statusDetail).toContain(`recorded payload does not match the request schema`)
      expect(record?.statusDetail).toContain(`"ten"`)
    })))

  it("parks at once on a result that does not fit its schema", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      let calls = 0
      const sloppy = Effect.sync(() => {
        calls++
        return "not a number" as unknown as number
      }).pipe(Activity.make("sloppy", Schema.Number, Schema.Never, { retry: fastRetry(2) }))
      const workflow = Workflow.make(Invoice, invoiceId, () => sloppy)
      const error = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Invoice({ invoiceId: "i-7", amount: 1 }))))
      expect(error._tag).toBe("ExecutionParkedError")
      expect(error.message).toContain(`Activity "sloppy" of execution "Invoice@i-7" returned a result`)
      expect(error.message).toContain("cannot encode")
      expect(calls).toBe(1)
    })))

  it("parks on a defect in the workflow body", () =>
    run(Effect.gen(function*() {
      const journal = yield* backend.make()
      const workflow = Workflow.make(Invoice, invoiceId, () => Effect.die(new Error("bug in the body")))
      const error = yield* withEngine(journal, [workflow], (engine) =>
        Effect.flip(engine.send(new Invoice({ invoiceId: "i-8", amount: 1 }))))
      expect(error._tag).toBe("ExecutionParkedError")
      expect(error.message).toContain(`Workflow "Invoice" died in execution "Invoice@i-8"`)
      expect(error.message).toContain("bug in the body")
    })))

  it("names the API used outside a workflow", async () => {
    const exit = await Effect.runPromiseExit(total as Effect.Effect<number>)
    expect(exit._tag).toBe("Failure")
    expect(String(exit._tag === "Failure" ? exit.cause : "")).toContain(
      `Activity "total" was called outside a workflow execution`
    )
  })

  it("rejects reserved activity names", () => {
    expect(() => Activity.make("$yield", Schema.Void)).toThrow(/must not start with "\$"/)
    expect(() => Activity.make("", Schema.Void)).toThrow(/must be non-empty/)
  })
})
