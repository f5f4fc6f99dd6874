import { createRule } from "../internal/createRule"
import { reportFindings } from "../internal/report"

type MessageId = "nameFromApi" | "constantNameInParallel" | "duplicateName"

export const durableActivityNames = createRule<[], MessageId>({
  name: "durable-activity-names",
  meta: {
    type: "problem",
    docs: {
      description: "Require activity names that stay the same on replay and differ between parallel calls",
      recommended: true,
      requiresTypeChecking: true
    },
    messages: {
      nameFromApi: "The activity name in `{{workflow}}` is built from `{{api}}`{{chain}}, so a replay asks for a " +
        "step the journal does not have. Build names from constants, request fields and loop indices.",
      constantNameInParallel: "Activity `{{name}}`{{chain}} is called with one name in every branch of a " +
        "parallel loop in `{{workflow}}`, and the runtime rejects two calls of one name that run at the same " +
        "time. Put the item's id or index in the name, or run the loop with `concurrency: 1`.",
      duplicateName: "Activity name `{{name}}`{{chain}} is also used by another `Activity.make` call in " +
        "`{{workflow}}`, so the two steps are told apart only by call order and a change of order swaps their " +
        "journaled results. Give each activity a name of its own."
    },
    schema: []
  },
  defaultOptions: [],
  create(context) {
    return {
      "Program:exit"() {
        reportFindings(context, (finding) => {
          switch (finding.kind._tag) {
            case "NameFromApi":
              return { messageId: "nameFromApi" }
            case "ConstantNameInParallel":
              return { messageId: "constantNameInParallel", data: { name: finding.kind.name } }
            case "DuplicateName":
              return { messageId: "duplicateName", data: { name: finding.kind.name } }
            default:
              return undefined
          }
        })
      }
    }
  }
})
