import { createRule } from "./createRule"
import type { Concern } from "./knownApis"
import { reportFindings } from "./report"

/** The texts of a rule that reports the known APIs of one concern. */
export interface ConcernRuleTexts {
  readonly name: string
  readonly concern: Concern
  readonly description: string
  /** The message for a finding in a workflow body. Placeholders: `api`, `chain`, `workflow`. */
  readonly inBody: string
  /** The message for a finding in an execution-id function. Same placeholders. */
  readonly inExecutionId: string
}

/** Creates a rule that reports the APIs of `texts.concern` reached from workflow contexts. */
export const createConcernRule = (texts: ConcernRuleTexts) =>
  createRule<[], "inBody" | "inExecutionId">({
    name: texts.name,
    meta: {
      type: "problem",
      docs: { description: texts.description, recommended: true, requiresTypeChecking: true },
      messages: { inBody: texts.inBody, inExecutionId: texts.inExecutionId },
      schema: []
    },
    defaultOptions: [],
    create(context) {
      return {
        "Program:exit"() {
          reportFindings(context, (finding, site) =>
            finding.kind._tag === "Api" && finding.kind.concern === texts.concern
              ? { messageId: site.role === "body" ? "inBody" : "inExecutionId" }
              : undefined)
        }
      }
    }
  })

/** The message for an execution-id function, the same for every concern but the verb. */
export const executionIdMessage = (verb: string): string =>
  `\`{{api}}\`{{chain}} ${verb} in the execution-id function of \`{{workflow}}\`, so the same request can get ` +
  `another execution id and start a second execution instead of joining the first. Compute the id from ` +
  `request fields only.`
