import * as path from "node:path"
import { ESLintUtils, type TSESLint, type TSESTree } from "@typescript-eslint/utils"
import type ts from "typescript"
import { analyzeFile } from "./analysis"
import { type Finding, formatChain } from "./findings"
import type { WorkflowSite } from "./workflowSites"

/** The message of one finding, or `undefined` when the rule does not report it. */
export interface Report<M extends string> {
  readonly messageId: M
  readonly data?: Record<string, string>
}

/** Placeholders every message may use: `api`, `chain`, `workflow`. */
export const commonData = (finding: Finding, site: WorkflowSite, cwd: string): Record<string, string> => ({
  api: "api" in finding.kind ? finding.kind.api : "",
  chain: formatChain(finding.via, cwd, finding.hiddenFrames),
  workflow: site.workflow
})

/** Reports the findings of the linted file that `select` turns into messages. */
export const reportFindings = <M extends string, O extends ReadonlyArray<unknown>>(
  context: Readonly<TSESLint.RuleContext<M, O>>,
  select: (finding: Finding, site: WorkflowSite) => Report<M> | undefined
): void => {
  const reported = new Set<string>()
  const baseDirectory = projectDirectory(context)
  for (const analyzed of analyzeFile(context)) {
    for (const finding of analyzed.findings) {
      const report = select(finding, analyzed.site)
      if (report === undefined) continue

      const loc = locationOf(finding.site)
      const key = `${report.messageId}:${loc.start.line}:${loc.start.column}:${JSON.stringify(report.data)}`
      if (reported.has(key)) continue

      reported.add(key)
      context.report({ loc, messageId: report.messageId, data: { ...commonData(finding, analyzed.site, baseDirectory), ...report.data } })
    }
  }
}

/** The folder of the linted file's tsconfig.json, which chains show paths relative to. */
const projectDirectory = <M extends string, O extends ReadonlyArray<unknown>>(
  context: Readonly<TSESLint.RuleContext<M, O>>
): string => {
  const configFile = ESLintUtils.getParserServices(context).program.getCompilerOptions().configFilePath
  return typeof configFile === "string" ? path.dirname(configFile) : context.cwd
}

const locationOf = (node: ts.Node): TSESTree.SourceLocation => {
  const sourceFile = node.getSourceFile()
  const start = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile))
  const end = sourceFile.getLineAndCharacterOfPosition(node.getEnd())
  return {
    start: { line: start.line + 1, column: start.character },
    end: { line: end.line + 1, column: end.character }
  }
}
