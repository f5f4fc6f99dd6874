import type { TSESLint } from "@typescript-eslint/utils"
import { ESLintUtils } from "@typescript-eslint/utils"
import type ts from "typescript"
import { makeExportResolver } from "./exportResolver"
import type { Finding } from "./findings"
import { readSettings } from "./settings"
import { analyzeContext } from "./walker"
import { findWorkflowSites, type WorkflowSite } from "./workflowSites"

/** A workflow context of the linted file with what it reaches. */
export interface AnalyzedSite {
  readonly site: WorkflowSite
  readonly findings: ReadonlyArray<Finding>
}

const analyses = new WeakMap<ts.SourceFile, ReadonlyArray<AnalyzedSite>>()

/**
 * Analyses every workflow context of the linted file once, so all rules share one result, which is
 * cached per source file of the program.
 */
export const analyzeFile = <M extends string, O extends ReadonlyArray<unknown>>(
  context: Readonly<TSESLint.RuleContext<M, O>>
): ReadonlyArray<AnalyzedSite> => {
  const services = ESLintUtils.getParserServices(context)
  const program = services.program
  const sourceFile = program.getSourceFile(context.filename) ??
    services.esTreeNodeToTSNodeMap.get(context.sourceCode.ast).getSourceFile()
  const cached = analyses.get(sourceFile)
  if (cached !== undefined) return cached

  const settings = readSettings(context.settings)
  const resolver = makeExportResolver(program, sourceFile.fileName)
  const analyzer = { program, checker: program.getTypeChecker(), resolver, maxDepth: settings.maxDepth }
  const result = findWorkflowSites(program, sourceFile, settings, resolver).map((site) => {
    const summary = analyzeContext(analyzer, site.node)
    return { site, findings: [...summary.findings, ...duplicateNames(summary.activities)] }
  })
  analyses.set(sourceFile, result)
  return result
}

/** Reports the second and later activity calls that reuse a name another `Activity.make` call has. */
const duplicateNames = (activities: ReturnType<typeof analyzeContext>["activities"]): Array<Finding> => {
  const firstMake = new Map<string, ts.Node>()
  const findings: Array<Finding> = []
  const reported = new Set<ts.Node>()
  for (const activity of activities) {
    if (activity.name === undefined) continue

    const first = firstMake.get(activity.name)
    if (first === undefined) {
      firstMake.set(activity.name, activity.make)
      continue
    }
    if (first === activity.make || reported.has(activity.site)) continue

    reported.add(activity.site)
    findings.push({ kind: { _tag: "DuplicateName", name: activity.name }, site: activity.site, via: activity.via })
  }
  return findings
}
