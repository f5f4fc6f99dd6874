import ts from "typescript"
import { declarationKey, isLibraryFile } from "./declarationKey"
import type { ExportResolver } from "./exportResolver"
import type { ActivitySite, Finding, FindingKind, Frame, Summary } from "./findings"
import { frameAt } from "./findings"
import { forEachKeys, lookupApi, retryKeys, seededRandomKey, type Usage } from "./knownApis"
import { callsOneOf, propertyInitializer } from "./workflowSites"

/** What a walk needs from the program, shared by every walk of one linted file. */
export interface Analyzer {
  readonly program: ts.Program
  readonly checker: ts.TypeChecker
  readonly resolver: ExportResolver
  readonly maxDepth: number
}

/** Flags that hold for a subtree of a walk. */
interface Scope {
  /** The function or variable being walked: helpers lexically inside it are walked, not summarised. */
  readonly root: ts.Node
  readonly depth: number
  readonly inActivityName: boolean
  readonly inParallelLoop: boolean
  readonly randomSeeded: boolean
}

const mutatingMethods = new Set([
  "push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill", "copyWithin", "set", "delete", "clear", "add"
])
const mutableCollections = new Set(["Array", "Map", "Set", "WeakMap", "WeakSet"])

const summaries = new WeakMap<ts.Program, WeakMap<ts.Node, Summary>>()
const inProgress = new WeakSet<ts.Node>()

/** Walks the code of a workflow context and returns what it reaches, helpers included. */
export const analyzeContext = (analyzer: Analyzer, node: ts.Node): Summary => {
  const summary: Summary = { findings: [], activities: [] }
  walk(analyzer, summary, node, {
    root: node,
    depth: 0,
    inActivityName: false,
    inParallelLoop: false,
    randomSeeded: false
  })
  return summary
}

const walk = (analyzer: Analyzer, out: Summary, node: ts.Node, scope: Scope): void => {
  const { checker } = analyzer

  const visit = (child: ts.Node, childScope: Scope = scope): void => walk(analyzer, out, child, childScope)

  const report = (kind: FindingKind, site: ts.Node, via: ReadonlyArray<Frame> = []): void => {
    if (scope.randomSeeded && kind._tag === "Api" && kind.seedable) return

    if (scope.inActivityName && kind._tag === "Api") {
      out.findings.push({ kind: { _tag: "NameFromApi", concern: kind.concern, api: kind.api }, site, via })

      return
    }
    out.findings.push({ kind, site, via })
  }

  const recordActivity = (activity: ActivitySite): void => {
    out.activities.push(activity)
    if (scope.inParallelLoop && activity.name !== undefined) {
      report({ _tag: "ConstantNameInParallel", name: activity.name }, activity.site, activity.via)
    }
  }

  if (ts.isTypeNode(node) || ts.isImportDeclaration(node) || ts.isInterfaceDeclaration(node)) return
  if (ts.isTypeAliasDeclaration(node) || ts.isExpressionWithTypeArguments(node)) return

  if (ts.isCallExpression(node) || ts.isNewExpression(node) || ts.isTaggedTemplateExpression(node)) {
    visitCall(node)

    return
  }
  if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) {
    visitMemberReference(node)

    return
  }
  if (ts.isIdentifier(node)) {
    if (isReferencePosition(node)) visitIdentifierReference(node)

    return
  }
  checkMutation(node)
  ts.forEachChild(node, (child) => visit(child))

  function visitCall(call: ts.CallExpression | ts.NewExpression | ts.TaggedTemplateExpression): void {
    if (ts.isCallExpression(call) && visitActivityCall(call)) return
    if (ts.isCallExpression(call) && visitPipe(call)) return
    if (ts.isCallExpression(call) && visitDataFirstRetry(call)) return
    if (ts.isCallExpression(call) && visitParallelLoop(call)) return

    const args = ts.isTaggedTemplateExpression(call) ? [call.template] : [...(call.arguments ?? [])]
    const usage: Usage = ts.isNewExpression(call) ? "new" : "call"
    const signature = checker.getResolvedSignature(call)?.declaration
    const key = signature === undefined ? undefined : declarationKey(analyzer.program, signature)
    const callee = ts.isTaggedTemplateExpression(call) ? call.tag : call.expression
    const match = (key === undefined ? undefined : lookupKey(key, usage, args.length)) ??
      lookupReference(callee, usage, args.length)
    if (match !== undefined) {
      report(match, call)
      args.forEach((argument) => visit(argument))

      return
    }
    const helper = signature === undefined ? undefined : helperOf(signature)
    if (helper !== undefined) {
      lift(helper, call)
      if (ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee)) visit(callee.expression)
      args.forEach((argument) => visit(argument))

      return
    }
    if (ts.isCallExpression(call)) checkMutatingCall(call)
    visit(callee)
    args.forEach((argument) => visit(argument))
  }

  /** Handles `Activity.make(name, ...)`, `Activity.make(...)(effect)` and effect's `Activity.make({ ... })`. */
  function visitActivityCall(call: ts.CallExpression): boolean {
    if (isWaymarkActivityMake(call)) {
      recordActivity({ make: call, name: literalName(call.arguments[0]), site: call, via: [] })
      call.arguments.forEach((argument, index) => visit(argument, { ...scope, inActivityName: index === 0 }))

      return true
    }
    if (ts.isCallExpression(call.expression) && isWaymarkActivityMake(call.expression)) {
      // The effect given to the activity runs only when no outcome is journaled, so it may be non-deterministic.
      visit(call.expression)

      return true
    }
    const effectActivityMake = analyzer.resolver.declarationsOfAny([
      ["effect/workflow", "Activity.make"],
      ["effect/workflow/Activity", "make"]
    ])
    if (!callsOneOf(checker, call, effectActivityMake)) return false

    const options = call.arguments[0]
    const name = propertyInitializer(options, "name")
    const execute = propertyInitializer(options, "execute")
    recordActivity({ make: call, name: literalName(name), site: call, via: [] })
    if (options !== undefined && ts.isObjectLiteralExpression(options)) {
      for (const property of options.properties) {
        if (ts.isPropertyAssignment(property) && property.initializer === execute) continue

        visit(property, { ...scope, inActivityName: ts.isPropertyAssignment(property) && property.initializer === name })
      }
    }
    return true
  }

  /** Handles `x.pipe(...)` and `pipe(x, ...)`: activity boundaries, seeded randomness and retries inside them. */
  function visitPipe(call: ts.CallExpression): boolean {
    const parts = pipeParts(call)
    if (parts === undefined) return false

    const activityIndex = findLastIndex(parts, (part) => ts.isCallExpression(part) && isWaymarkActivityMake(part))
    const seedIndex = findLastIndex(parts, (part) => isCallOfKey(part, seededRandomKey))
    const start = Math.max(activityIndex, 0)
    if (!ts.isPropertyAccessExpression(call.expression)) visit(call.expression)
    let activitiesBefore = 0
    parts.forEach((part, index) => {
      if (index < start) return

      if (ts.isCallExpression(part) && isRetryCall(part) && activitiesBefore > 0) {
        const activity = out.activities[out.activities.length - 1]
        report({ _tag: "RetryAroundActivity", api: apiName(part), activity: activity?.name ?? "activity" }, part)
      }
      const before = out.activities.length
      visit(part, { ...scope, randomSeeded: scope.randomSeeded || index < seedIndex })
      activitiesBefore += out.activities.length - before
    })
    return true
  }

  /** Handles `Effect.retry(effect, policy)`, flagging it when `effect` contains an activity. */
  function visitDataFirstRetry(call: ts.CallExpression): boolean {
    const [wrapped, ...rest] = call.arguments
    if (wrapped === undefined || rest.length === 0 || !isRetryCall(call)) return false

    const before = out.activities.length
    visit(wrapped)
    const activity = out.activities[out.activities.length - 1]
    if (out.activities.length > before) {
      report({ _tag: "RetryAroundActivity", api: apiName(call), activity: activity?.name ?? "activity" }, call)
    }
    visit(call.expression)
    rest.forEach((argument) => visit(argument))
    return true
  }

  /** Handles `Effect.forEach` and `Effect.all` with a `concurrency` other than 1: their callbacks run in parallel. */
  function visitParallelLoop(call: ts.CallExpression): boolean {
    if (!forEachKeysMatch(call) || !hasConcurrency(call.arguments[call.arguments.length - 1])) return false

    visit(call.expression)
    for (const argument of call.arguments) {
      const loop = ts.isArrowFunction(argument) || ts.isFunctionExpression(argument) || isArrayMapCall(argument)
      visit(argument, { ...scope, inParallelLoop: scope.inParallelLoop || loop })
    }
    return true
  }

  function visitMemberReference(member: ts.PropertyAccessExpression | ts.ElementAccessExpression): void {
    const match = lookupReference(member, "reference", 0)
    if (match !== undefined) {
      report(match, member)

      return
    }
    const helper = helperOfReference(ts.isPropertyAccessExpression(member) ? member.name : member)
    if (helper !== undefined) lift(helper, member)
    visit(member.expression)
    if (ts.isElementAccessExpression(member)) visit(member.argumentExpression)
  }

  function visitIdentifierReference(identifier: ts.Identifier): void {
    const match = lookupReference(identifier, "reference", 0)
    if (match !== undefined) {
      report(match, identifier)

      return
    }
    const helper = helperOfReference(identifier)
    if (helper !== undefined) lift(helper, identifier)
  }

  /** Looks up the API that an expression refers to, through aliases and renamed imports. */
  function lookupReference(expression: ts.Expression, usage: Usage, argumentCount: number): FindingKind | undefined {
    const key = referenceKey(expression)
    return key === undefined ? undefined : lookupKey(key, usage, argumentCount)
  }

  function literalName(expression: ts.Node | undefined): string | undefined {
    if (expression === undefined) return undefined

    const type = checker.getTypeAtLocation(expression)
    return type.isStringLiteral() ? type.value : undefined
  }

  function referenceKey(expression: ts.Expression): string | undefined {
    const location = ts.isPropertyAccessExpression(expression)
      ? expression.name
      : ts.isElementAccessExpression(expression)
      ? expression.argumentExpression
      : expression
    const symbol = checker.getSymbolAtLocation(location)
    if (symbol === undefined) return undefined

    const target = (symbol.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(symbol) : symbol
    const declaration = target.declarations?.[0]
    if (declaration !== undefined) return declarationKey(analyzer.program, declaration)

    // The module has no types installed: use the import itself, `import { v4 } from "uuid"` gives `uuid:v4`.
    const importDeclaration = symbol.declarations?.[0]
    if (importDeclaration === undefined || !ts.isImportSpecifier(importDeclaration)) return undefined

    const module = importDeclaration.parent.parent.parent.moduleSpecifier
    const imported = (importDeclaration.propertyName ?? importDeclaration.name).getText()
    return ts.isStringLiteral(module) ? `${module.text.replace(/^node:/, "")}:${imported}` : undefined
  }

  /** The project function or module-level variable that a reference reaches, if the analysis should follow it. */
  function helperOfReference(location: ts.Node): ts.Declaration | undefined {
    let symbol = checker.getSymbolAtLocation(location)
    if (symbol !== undefined && (symbol.flags & ts.SymbolFlags.Alias) !== 0) symbol = checker.getAliasedSymbol(symbol)
    const declaration = symbol?.valueDeclaration
    if (declaration === undefined) return undefined
    if (ts.isFunctionDeclaration(declaration)) return helperOf(declaration)
    if (!ts.isVariableDeclaration(declaration) || declaration.initializer === undefined) return undefined
    if (isFunctionLike(declaration.initializer)) return helperOf(declaration.initializer)

    return isModuleLevel(declaration) ? helperOf(declaration) : undefined
  }

  /** A declaration in the project's own files that is not inside the code being walked. */
  function helperOf(declaration: ts.Node): ts.Declaration | undefined {
    const target = ts.isVariableDeclaration(declaration) || isFunctionLike(declaration) ? declaration : undefined
    if (target === undefined || isWithin(target, scope.root) || isWithin(scope.root, target)) return undefined

    const sourceFile = target.getSourceFile()
    if (sourceFile.isDeclarationFile || isLibraryFile(analyzer.program, sourceFile)) return undefined
    if (analyzer.resolver.libraryFolders().some((folder) => sourceFile.fileName.startsWith(`${folder}/`))) {
      return undefined
    }
    return hasDeterministicTag(target) ? undefined : target as ts.Declaration
  }

  /** Adds a helper's findings and activities at `site`, with the helper added to their chains. */
  function lift(helper: ts.Declaration, site: ts.Node): void {
    if (scope.depth >= analyzer.maxDepth) return

    const summary = summarize(analyzer, helper, scope.depth + 1)
    const name = helperName(helper)
    const isFunction = !ts.isVariableDeclaration(helper)
    for (const finding of summary.findings) {
      report(finding.kind, site, [frameAt(name, isFunction, finding.site), ...finding.via])
    }
    for (const activity of summary.activities) {
      recordActivity({ ...activity, site, via: [frameAt(name, isFunction, activity.site), ...activity.via] })
    }
  }

  function checkMutation(candidate: ts.Node): void {
    if (ts.isBinaryExpression(candidate) && isAssignmentOperator(candidate.operatorToken.kind)) {
      checkTarget(candidate.left)
    } else if (
      (ts.isPrefixUnaryExpression(candidate) || ts.isPostfixUnaryExpression(candidate)) &&
      (candidate.operator === ts.SyntaxKind.PlusPlusToken || candidate.operator === ts.SyntaxKind.MinusMinusToken)
    ) {
      checkTarget(candidate.operand)
    } else if (ts.isDeleteExpression(candidate)) {
      checkTarget(candidate.expression)
    }
  }

  function checkTarget(target: ts.Expression): void {
    const root = rootIdentifier(target)
    if (root === undefined) return

    if (root.text === "globalThis" && root !== target && isGlobalThis(root)) {
      report({ _tag: "SharedState", change: "mutated", variable: target.getText() }, target)

      return
    }
    const declaration = moduleLevelDeclaration(root)
    if (declaration === undefined) return

    report({ _tag: "SharedState", change: root === target ? "reassigned" : "mutated", variable: root.text }, target)
  }

  function checkMutatingCall(call: ts.CallExpression): void {
    if (!ts.isPropertyAccessExpression(call.expression) || !mutatingMethods.has(call.expression.name.text)) return

    const receiver = call.expression.expression
    const root = rootIdentifier(receiver)
    if (root === undefined || moduleLevelDeclaration(root) === undefined) return

    const typeName = checker.getTypeAtLocation(receiver).getSymbol()?.getName()
    if (typeName === undefined || !mutableCollections.has(typeName)) return

    report({ _tag: "SharedState", change: "mutated", variable: root.text }, call)
  }

  /** The module-level variable declaration an identifier refers to, if it is outside the code being walked. */
  function moduleLevelDeclaration(identifier: ts.Identifier): ts.VariableDeclaration | undefined {
    const declaration = checker.getSymbolAtLocation(identifier)?.valueDeclaration
    if (declaration === undefined || !ts.isVariableDeclaration(declaration) || !isModuleLevel(declaration)) return undefined

    return isLibraryFile(analyzer.program, declaration.getSourceFile()) ? undefined : declaration
  }

  function isGlobalThis(identifier: ts.Identifier): boolean {
    const declaration = checker.getSymbolAtLocation(identifier)?.declarations?.[0]
    return declaration === undefined || isLibraryFile(analyzer.program, declaration.getSourceFile())
  }

  function isWaymarkActivityMake(call: ts.CallExpression): boolean {
    return callsOneOf(checker, call, analyzer.resolver.declarations("@waymark/runtime", "Activity.make"))
  }

  function isCallOfKey(node: ts.Node, key: string): boolean {
    return ts.isCallExpression(node) && callKey(node) === key
  }

  function isRetryCall(call: ts.CallExpression): boolean {
    const key = callKey(call)
    return key !== undefined && retryKeys.has(key)
  }

  function forEachKeysMatch(call: ts.CallExpression): boolean {
    const key = callKey(call)
    return key !== undefined && forEachKeys.has(key)
  }

  function callKey(call: ts.CallExpression): string | undefined {
    return referenceKey(call.expression)
  }

  function apiName(call: ts.CallExpression): string {
    return `${call.expression.getText()}()`
  }

  function pipeParts(call: ts.CallExpression): ReadonlyArray<ts.Expression> | undefined {
    if (ts.isPropertyAccessExpression(call.expression) && call.expression.name.text === "pipe") {
      return [call.expression.expression, ...call.arguments]
    }
    const key = referenceKey(call.expression)
    return key === "effect/Function:pipe" ? [...call.arguments] : undefined
  }
}

/** Summarises a helper once per program: what its code reaches, with sites in its own file. */
const summarize = (analyzer: Analyzer, helper: ts.Declaration, depth: number): Summary => {
  const cache = summaries.get(analyzer.program) ?? new WeakMap<ts.Node, Summary>()
  summaries.set(analyzer.program, cache)
  const cached = cache.get(helper)
  if (cached !== undefined) return cached
  // A recursive helper adds nothing new on its second visit.
  if (inProgress.has(helper)) return { findings: [], activities: [] }

  inProgress.add(helper)
  const summary: Summary = { findings: [], activities: [] }
  const code = ts.isVariableDeclaration(helper) ? helper.initializer : helper
  if (code !== undefined) {
    walk(analyzer, summary, code, {
      root: helper,
      depth,
      inActivityName: false,
      inParallelLoop: false,
      randomSeeded: false
    })
  }
  inProgress.delete(helper)
  // NOTE: a summary made at the depth limit may miss findings, so only summaries made from a workflow's
  // first level are cached; deeper ones are recomputed when reached again.
  if (depth <= 1) cache.set(helper, summary)
  return summary
}

const isFunctionLike = (node: ts.Node): node is ts.FunctionLikeDeclaration =>
  ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node) ||
  ts.isMethodDeclaration(node)

const isWithin = (node: ts.Node, ancestor: ts.Node): boolean =>
  node.getSourceFile() === ancestor.getSourceFile() && node.pos >= ancestor.pos && node.end <= ancestor.end

const isModuleLevel = (declaration: ts.VariableDeclaration): boolean => {
  const statement = declaration.parent.parent
  return ts.isVariableStatement(statement) && ts.isSourceFile(statement.parent)
}

const hasDeterministicTag = (declaration: ts.Node): boolean => {
  const owner = ts.isVariableDeclaration(declaration.parent) ? declaration.parent : declaration
  return ts.getJSDocTags(owner).some((tag) => tag.tagName.text === "deterministic")
}

const helperName = (helper: ts.Declaration): string => {
  const named = ts.isVariableDeclaration(helper.parent) ? helper.parent : helper
  const name = (named as ts.NamedDeclaration).name
  return name === undefined ? "anonymous function" : name.getText()
}

const rootIdentifier = (expression: ts.Expression): ts.Identifier | undefined => {
  let node: ts.Expression = expression
  while (
    ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node) || ts.isParenthesizedExpression(node) ||
    ts.isAsExpression(node) || ts.isNonNullExpression(node) || ts.isSatisfiesExpression(node)
  ) {
    node = node.expression
  }
  return ts.isIdentifier(node) ? node : undefined
}

const isAssignmentOperator = (kind: ts.SyntaxKind): boolean =>
  kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment

const lookupKey = (key: string, usage: Usage, argumentCount: number): FindingKind | undefined => {
  const match = lookupApi(key, usage, argumentCount)
  if (match === undefined) return undefined

  return { _tag: "Api", concern: match.concern, api: match.display, seedable: key.startsWith("effect/Random:") }
}

const hasConcurrency = (options: ts.Expression | undefined): boolean => {
  const concurrency = propertyInitializer(options, "concurrency")
  if (concurrency === undefined) return false

  return !(ts.isNumericLiteral(concurrency) && concurrency.text === "1")
}

const isArrayMapCall = (node: ts.Node): boolean =>
  ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === "map"

const isReferencePosition = (identifier: ts.Identifier): boolean => {
  const parent = identifier.parent
  if (ts.isPropertyAssignment(parent) && parent.name === identifier) return false
  if (ts.isShorthandPropertyAssignment(parent)) return true
  if ((ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isBindingElement(parent)) && parent.name === identifier) {
    return false
  }
  if ((ts.isFunctionDeclaration(parent) || ts.isFunctionExpression(parent) || ts.isClassDeclaration(parent)) && parent.name === identifier) {
    return false
  }
  if (ts.isMethodDeclaration(parent) || ts.isPropertyDeclaration(parent) || ts.isLabeledStatement(parent)) return false
  if (ts.isBreakOrContinueStatement(parent)) return false

  return true
}

const findLastIndex = <A>(items: ReadonlyArray<A>, predicate: (item: A) => boolean): number => {
  for (let index = items.length - 1; index >= 0; index--) {
    if (predicate(items[index]!)) return index
  }
  return -1
}
