import ts from "typescript"
import type { ExportResolver } from "./exportResolver"
import { declarationKey } from "./declarationKey"
import type { WaymarkSettings } from "./settings"

/** A function whose code runs in a workflow context: a body or an execution-id function. */
export interface WorkflowSite {
  readonly role: "body" | "executionId"
  readonly node: ts.Expression
  /** How messages name the workflow, for example `processPayment`. */
  readonly workflow: string
}

const effectToLayerKey = "effect/workflow/Workflow:Workflow.toLayer"

/** Lists the workflow bodies and execution-id functions defined in a file. */
export const findWorkflowSites = (
  program: ts.Program,
  sourceFile: ts.SourceFile,
  settings: WaymarkSettings,
  resolver: ExportResolver
): ReadonlyArray<WorkflowSite> => {
  const checker = program.getTypeChecker()
  const sites: Array<WorkflowSite> = []
  const factories = settings.workflowFactories.map((factory) => ({
    factory,
    declarations: resolver.declarations(factory.module, factory.export)
  }))
  const effectMake = resolver.declarationsOfAny([
    ["effect/workflow", "Workflow.make"],
    ["effect/workflow/Workflow", "make"]
  ])

  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      for (const { factory, declarations } of factories) {
        if (!callsOneOf(checker, node, declarations)) continue

        const workflow = workflowName(node)
        const body = node.arguments[factory.bodyArgument]
        if (body !== undefined) sites.push({ role: "body", node: body, workflow })
        const executionId = factory.executionIdArgument === undefined
          ? undefined
          : node.arguments[factory.executionIdArgument]
        if (executionId !== undefined) sites.push({ role: "executionId", node: executionId, workflow })
      }
      if (effectMake.size > 0) addEffectSites(node)
    }
    ts.forEachChild(node, visit)
  }

  const addEffectSites = (call: ts.CallExpression): void => {
    if (callsOneOf(checker, call, effectMake)) {
      const key = propertyInitializer(call.arguments[1], "idempotencyKey")
      if (key !== undefined) sites.push({ role: "executionId", node: key, workflow: workflowName(call) })

      return
    }
    if (!ts.isPropertyAccessExpression(call.expression) || call.expression.name.text !== "toLayer") return

    const declaration = checker.getSymbolAtLocation(call.expression.name)?.declarations?.[0]
    const body = call.arguments[0]
    if (declaration === undefined || body === undefined) return
    if (declarationKey(program, declaration) !== effectToLayerKey) return

    sites.push({ role: "body", node: body, workflow: call.expression.expression.getText(sourceFile) })
  }

  visit(sourceFile)
  return sites
}

/** Tells whether a call's callee resolves to one of `declarations`, through aliases and re-exports. */
export const callsOneOf = (checker: ts.TypeChecker, call: ts.CallExpression, declarations: ReadonlySet<ts.Node>): boolean => {
  if (declarations.size === 0) return false

  const callee = ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call.expression
  let symbol = checker.getSymbolAtLocation(callee)
  if (symbol !== undefined && (symbol.flags & ts.SymbolFlags.Alias) !== 0) symbol = checker.getAliasedSymbol(symbol)
  if (symbol?.declarations?.some((declaration) => declarations.has(declaration)) === true) return true

  const signature = checker.getResolvedSignature(call)?.declaration
  if (signature === undefined) return false

  return declarations.has(signature) || declarations.has(signature.parent)
}

/** The initializer of property `name` in an object literal argument. */
export const propertyInitializer = (argument: ts.Expression | undefined, name: string): ts.Expression | undefined => {
  if (argument === undefined || !ts.isObjectLiteralExpression(argument)) return undefined

  for (const property of argument.properties) {
    if (ts.isPropertyAssignment(property) && property.name.getText() === name) return property.initializer
    if (ts.isMethodDeclaration(property) && property.name.getText() === name) return property as unknown as ts.Expression
  }
  return undefined
}

/** The variable the workflow is assigned to, or the text of its first argument. */
const workflowName = (call: ts.CallExpression): string => {
  let node: ts.Node = call
  while (ts.isCallExpression(node.parent) || ts.isPropertyAccessExpression(node.parent)) node = node.parent
  if (ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name)) return node.parent.name.text

  return call.arguments[0]?.getText() ?? "workflow"
}
