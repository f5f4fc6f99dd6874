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
  readonly inActivityName: boolean
  readonly inParallelLoop: boolean
  readonly randomSeeded: boolean
}

const mutatingMethods = new Set([
  "push", "pop", "shift", "unshift", "splice", "sort", "reverse", "fill", "copyWithin", "set", "delete", "clear", "add"
])
const mutableCollections = new Set(["Array", "Map", "Set", "WeakMap", "WeakSet"])

/**
 * A cached summary. `lowestActive` is the index in `activeHelpers` of the outermost helper that was
 * still being summarised when this summary was made and that it reaches through a cycle, or
 * `Infinity` when the summary is complete.
 */
interface CacheEntry {
  readonly summary: Summary
  lowestActive: number
}

const summaries = new WeakMap<ts.Program, Map<ts.Node, CacheEntry>>()
/** The helpers whose summaries are being made, outermost first. Walks are synchronous, so one stack serves all. */
const activeHelpers: Array<ts.Node> = []
/** For each entry of `activeHelpers`, the lowest index of an active helper its walk has reached so far. */
const lowestReached: Array<number> = []
/** Summaries cached before the outermost helper of their cycle finished, dropped when it finishes. */
const provisional: Array<{ readonly helper: ts.Node; readonly entry: CacheEntry }> = []
/** Keys of the findings and activities already in a summary, so each site keeps one chain per kind. */
const summaryKeys = new WeakMap<Summary, Set<string>>()

/** Walks the code of a workflow context and returns what it reaches, helpers included. */
export const analyzeContext = (analyzer: Analyzer, node: ts.Node): Summary => {
  const summary: Summary = { findings: [], activities: [] }
  walk(analyzer, summary, node, {
    root: node,
    inActivityName: false,
    inParallelLoop: false,
    randomSeeded: false
  })
  return summary
}

const walk = (analyzer: Analyzer, out: Summary, node: ts.Node, scope: Scope): void => {
  const { checker } = analyzer

  const visit = (child: ts.Node, childScope: Scope = scope): void => walk(analyzer, out, child, childScope)

  const report = (kind: FindingKind, site: ts.Node, via: ReadonlyArray<Frame> = [], hiddenFrames = 0): void => {
    if (scope.randomSeeded && kind._tag === "Api" && kind.seedable) return

    const reported: FindingKind = scope.inActivityName && kind._tag === "Api"
      ? { _tag: "NameFromApi", concern: kind.concern, api: kind.api }
      : kind
    if (!isNewKey(out, `finding:${siteKey(site)}:${JSON.stringify(reported)}`)) return

    out.findings.push({ kind: reported, site, via, hiddenFrames })
  }

  const recordActivity = (activity: ActivitySite): void => {
    if (!isNewKey(out, `activity:${siteKey(activity.make)}:${siteKey(activity.site)}`)) return

    out.activities.push(activity)
    if (scope.inParallelLoop && activity.name !== undefined) {
      report({ _tag: "ConstantNameInParallel", name: activity.name }, activity.site, activity.via)
    }
  }

  if (ts.isTypeNode(node) || ts.isImportDeclaration(node) || ts.isInterfaceDeclaration(node)) return
  if (ts.isTypeAliasDeclaration(node) || ts.isExpressionWithTypeArguments(node)) return

  // An effect kept in a local variable that is only ever run as an activity runs only when no outcome is journaled.
  if (ts.isVariableDeclaration(node) && node !== scope.root && isActivityOnlyLocal(node)) return

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
    const isSuperCall = ts.isCallExpression(call) && call.expression.kind === ts.SyntaxKind.SuperKeyword
    const constructed = ts.isNewExpression(call) || isSuperCall
      ? constructedClass(call as ts.NewExpression | ts.CallExpression, signature)
      : undefined
    const helper = constructed !== undefined
      ? helperOf(constructed)
      : signature === undefined ? undefined : helperOf(signature)
    if (helper !== undefined) {
      lift(helper, call)
      const isMember = ts.isPropertyAccessExpression(callee) || ts.isElementAccessExpression(callee)
      if (isMember && moduleObjectProperty(callee) === undefined) visit(callee.expression)
      args.forEach((argument, index) => {
        // An argument that the helper only runs as an activity is inside that activity.
        const parameter = signature !== undefined && isFunctionLike(signature) ? parameterAt(signature, index) : undefined
        if (parameter === undefined || !isActivityOnlyBinding(parameter)) visit(argument)
      })

      return
    }
    if (ts.isCallExpression(call)) checkMutatingCall(call)
    visit(callee)
    args.forEach((argument) => visit(argument))
  }

  /**
   * Handles `Activity.make(name, ...)`, a call of the function it returns (`Activity.make(...)(effect)` or
   * `asActivity(effect)`) and effect's `Activity.make({ ... })`.
   */
  function visitActivityCall(call: ts.CallExpression): boolean {
    if (isWaymarkActivityMake(call)) {
      recordActivity({ make: call, name: literalName(call.arguments[0]), site: call, via: [] })
      call.arguments.forEach((argument, index) => visit(argument, { ...scope, inActivityName: index === 0 }))

      return true
    }
    if (isActivityBoundary(call.expression)) {
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

    const activityIndex = findLastIndex(parts, (part, index) => index > 0 && isActivityBoundary(part))
    const seedIndex = findLastIndex(parts, (part) => isCallOfKey(part, seededRandomKey))
    const start = Math.max(activityIndex, 0)
    if (!ts.isPropertyAccessExpression(call.expression)) visit(call.expression)
    let activitiesBefore = 0
    let lastActivityName: string | undefined
    parts.forEach((part, index) => {
      if (index < start) return

      if (ts.isCallExpression(part) && isRetryCall(part) && activitiesBefore > 0) {
        report({ _tag: "RetryAroundActivity", api: apiName(part), activity: lastActivityName ?? "activity" }, part)
      }
      const before = out.activities.length
      visit(part, { ...scope, randomSeeded: scope.randomSeeded || index < seedIndex })
      const recorded = out.activities.length - before
      if (recorded > 0) {
        activitiesBefore += recorded
        lastActivityName = out.activities[out.activities.length - 1]?.name
      } else if (index === activityIndex) {
        // A local factory (`const send = Activity.make(...)`) recorded its activity where it is declared.
        activitiesBefore += 1
        lastActivityName = factoryName(part)
      }
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
    call.arguments.forEach((argument, index) => {
      const isOptions = index === call.arguments.length - 1
      // A reference such as `Effect.forEach(items, reserve, ...)` is a callback too.
      const isCallback = !isOptions && checker.getTypeAtLocation(argument).getCallSignatures().length > 0
      const loop = ts.isArrowFunction(argument) || ts.isFunctionExpression(argument) || isArrayMapCall(argument) || isCallback
      visit(argument, { ...scope, inParallelLoop: scope.inParallelLoop || loop })
    })
    return true
  }

  /** Tells whether an options object has a `concurrency` whose type is not the literal 1. */
  function hasConcurrency(options: ts.Expression | undefined): boolean {
    const concurrency = propertyInitializer(options, "concurrency")
    if (concurrency === undefined) return false

    const type = checker.getTypeAtLocation(concurrency)
    return !(type.isNumberLiteral() && type.value === 1)
  }

  function visitMemberReference(member: ts.PropertyAccessExpression | ts.ElementAccessExpression): void {
    const match = lookupReference(member, "reference", 0)
    if (match !== undefined) {
      report(match, member)

      return
    }
    const property = moduleObjectProperty(member)
    if (property !== undefined) {
      // Only the property read runs, so the rest of the object literal is not walked.
      const propertyHelper = helperOf(property)
      if (propertyHelper !== undefined) lift(propertyHelper, member)
      if (ts.isElementAccessExpression(member)) visit(member.argumentExpression)

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
    if (ts.isFunctionDeclaration(declaration) || ts.isGetAccessorDeclaration(declaration)) return helperOf(declaration)
    if (!ts.isVariableDeclaration(declaration) || declaration.initializer === undefined) return undefined
    if (isFunctionLike(declaration.initializer)) return helperOf(declaration.initializer)

    return isModuleLevel(declaration) ? helperOf(declaration) : undefined
  }

  /**
   * Finds the property assignment that `member` reads when its receiver is a module-level variable initialised
   * with an object literal (`utils.add` for `const utils = { add: ... }`), or `undefined` when the
   * access does not resolve to one property of that literal.
   */
  function moduleObjectProperty(member: ts.PropertyAccessExpression | ts.ElementAccessExpression): ts.PropertyAssignment | undefined {
    if (!ts.isIdentifier(member.expression)) return undefined

    const receiver = valueDeclarationOf(member.expression)
    if (receiver === undefined || !ts.isVariableDeclaration(receiver) || !isModuleLevel(receiver)) return undefined

    const literal = receiver.initializer === undefined ? undefined : skipOuterExpressions(receiver.initializer)
    if (literal === undefined || !ts.isObjectLiteralExpression(literal)) return undefined

    const name = ts.isPropertyAccessExpression(member) ? member.name : member.argumentExpression
    const property = checker.getSymbolAtLocation(name)?.valueDeclaration
    if (property === undefined || !ts.isPropertyAssignment(property) || property.parent !== literal) return undefined

    return property
  }

  /** Resolves the value declaration of the symbol at `location`, through import aliases. */
  function valueDeclarationOf(location: ts.Node): ts.Declaration | undefined {
    let symbol = checker.getSymbolAtLocation(location)
    if (symbol !== undefined && (symbol.flags & ts.SymbolFlags.Alias) !== 0) symbol = checker.getAliasedSymbol(symbol)
    return symbol?.valueDeclaration
  }

  /** The class that `new` constructs, found from the resolved constructor or the callee's symbol. */
  function constructedClass(call: ts.NewExpression | ts.CallExpression, signature: ts.Declaration | undefined): ts.ClassLikeDeclaration | undefined {
    if (signature !== undefined && ts.isConstructorDeclaration(signature)) return signature.parent
    if (signature !== undefined && ts.isClassLike(signature)) return signature

    const declaration = valueDeclarationOf(call.expression)
    return declaration !== undefined && ts.isClassLike(declaration) ? declaration : undefined
  }

  /** Returns `declaration` when it is in the project's own files, wherever it is, and `undefined` for library code. */
  function helperOfAnyScope(declaration: ts.Node): ts.Node | undefined {
    const sourceFile = declaration.getSourceFile()
    if (sourceFile.isDeclarationFile || isLibraryFile(analyzer.program, sourceFile)) return undefined

    return declaration
  }

  /** A declaration in the project's own files that is not inside the code being walked. */
  function helperOf(declaration: ts.Node): ts.Declaration | undefined {
    const target = ts.isVariableDeclaration(declaration) || ts.isPropertyAssignment(declaration) ||
        isFunctionLike(declaration) || ts.isClassLike(declaration)
      ? declaration
      : undefined
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
    const summary = summarize(analyzer, helper)
    const name = helperName(helper)
    const isFunction = ts.isPropertyAssignment(helper) ? isFunctionLike(helper.initializer) : !ts.isVariableDeclaration(helper)
    // Chains longer than `maxDepth` keep their outermost frames and count the rest, so deep findings are still reported.
    const extend = (via: ReadonlyArray<Frame>, hiddenFrames: number, frame: Frame) => {
      const full = [frame, ...via]
      const kept = full.slice(0, analyzer.maxDepth)
      return { via: kept, hiddenFrames: hiddenFrames + full.length - kept.length }
    }
    for (const finding of summary.findings) {
      const chain = extend(finding.via, finding.hiddenFrames ?? 0, frameAt(name, isFunction, finding.site))
      report(finding.kind, site, chain.via, chain.hiddenFrames)
    }
    for (const activity of summary.activities) {
      const chain = extend(activity.via, activity.hiddenFrames ?? 0, frameAt(name, isFunction, activity.site))
      recordActivity({ ...activity, site, ...chain })
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
    const declaration = valueDeclarationOf(identifier)
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

  /**
   * Tells whether an expression is an activity boundary: a function whose type is the one Waymark's
   * `Activity.make(...)` returns, however it was stored or passed.
   */
  function isActivityBoundary(expression: ts.Expression): boolean {
    const makeDeclarations = analyzer.resolver.declarations("@waymark/runtime", "Activity.make")
    if (makeDeclarations.size === 0) return false

    const signatures = checker.getTypeAtLocation(expression).getCallSignatures()
    return signatures.length > 0 && signatures.every((signature) => {
      const declaration = signature.getDeclaration() as ts.Node | undefined
      if (declaration === undefined || makeDeclarations.has(declaration) || makeDeclarations.has(declaration.parent)) {
        return false
      }
      return [...makeDeclarations].some((make) => isWithin(declaration, make))
    })
  }

  /** Reads the literal activity name of a variable initialised with `Activity.make(name, ...)`. */
  function factoryName(expression: ts.Expression): string | undefined {
    const declaration = ts.isIdentifier(expression) ? valueDeclarationOf(expression) : undefined
    if (declaration === undefined || !ts.isVariableDeclaration(declaration)) return undefined

    const initializer = declaration.initializer
    if (initializer === undefined || !ts.isCallExpression(initializer) || !isWaymarkActivityMake(initializer)) return undefined

    return literalName(initializer.arguments[0])
  }

  /** Tells whether a local variable contains an effect that every use runs as an activity. */
  function isActivityOnlyLocal(declaration: ts.VariableDeclaration): boolean {
    if (declaration.initializer === undefined || isModuleLevel(declaration)) return false

    return isActivityOnlyBinding(declaration)
  }

  /**
   * Tells whether every reference to a variable or parameter, in the function or block that declares
   * it, is the input of an activity boundary. A binding that is never referenced does not count.
   */
  function isActivityOnlyBinding(binding: ts.VariableDeclaration | ts.ParameterDeclaration): boolean {
    const cached = activityOnlyBindings.get(binding)
    if (cached !== undefined) return cached
    if (!ts.isIdentifier(binding.name)) return false

    // Counts as `false` during the scan, so a wrapper that passes its parameter back to itself ends the recursion.
    activityOnlyBindings.set(binding, false)
    const symbol = checker.getSymbolAtLocation(binding.name)
    const container = ts.isParameter(binding) ? binding.parent : binding.parent.parent.parent
    let references = 0
    let allInputs = true
    const scan = (node: ts.Node): void => {
      if (!allInputs) return
      if (ts.isIdentifier(node) && node !== binding.name && checker.getSymbolAtLocation(node) === symbol) {
        references += 1
        if (!isActivityInput(node)) allInputs = false
        return
      }
      ts.forEachChild(node, scan)
    }
    if (symbol !== undefined) scan(container)
    const result = symbol !== undefined && references > 0 && allInputs
    activityOnlyBindings.set(binding, result)
    return result
  }

  /** Tells whether an expression is the effect of `effect.pipe(..., boundary)`, `pipe(effect, ..., boundary)` or `boundary(effect)`. */
  function isActivityInput(expression: ts.Expression): boolean {
    let node: ts.Expression = expression
    while (ts.isParenthesizedExpression(node.parent)) node = node.parent
    const parent = node.parent

    if (
      ts.isPropertyAccessExpression(parent) && parent.expression === node && parent.name.text === "pipe" &&
      ts.isCallExpression(parent.parent) && parent.parent.expression === parent
    ) {
      return parent.parent.arguments.some((part) => isActivityBoundary(part))
    }
    if (!ts.isCallExpression(parent) || parent.expression === node) return false

    const index = parent.arguments.indexOf(node)
    if (index === 0 && referenceKey(parent.expression) === "effect/Function:pipe") {
      return parent.arguments.slice(1).some((part) => isActivityBoundary(part))
    }
    if (isActivityBoundary(parent.expression)) return true

    const declaration = checker.getResolvedSignature(parent)?.declaration
    if (declaration === undefined || !isFunctionLike(declaration) || helperOfAnyScope(declaration) === undefined) return false

    const parameter = parameterAt(declaration, index)
    return parameter !== undefined && isActivityOnlyBinding(parameter)
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

/**
 * Summarises a helper once per program: what its code reaches, with sites in its own file.
 *
 * A helper that reaches itself through a cycle gets an empty summary for the inner visit. Every
 * summary made inside such a cycle lacks the findings of the cycle's outermost helper, so it is
 * cached only until that helper's summary is complete. This keeps the work linear in the number of
 * helper calls for call graphs without cycles, and walks each helper of a cycle once per entry.
 */
const summarize = (analyzer: Analyzer, helper: ts.Declaration): Summary => {
  const cache = summaries.get(analyzer.program) ?? new Map<ts.Node, CacheEntry>()
  summaries.set(analyzer.program, cache)
  const cached = cache.get(helper)
  if (cached !== undefined) {
    noteReached(cached.lowestActive)
    return cached.summary
  }
  const activeIndex = activeHelpers.indexOf(helper)
  if (activeIndex >= 0) {
    noteReached(activeIndex)
    return { findings: [], activities: [] }
  }

  const index = activeHelpers.length
  const provisionalStart = provisional.length
  activeHelpers.push(helper)
  lowestReached.push(index)
  const summary: Summary = { findings: [], activities: [] }
  let lowest = index
  try {
    for (const code of codeOf(helper)) {
      walk(analyzer, summary, code, { root: helper, inActivityName: false, inParallelLoop: false, randomSeeded: false })
    }
  } finally {
    activeHelpers.pop()
    lowest = lowestReached.pop() ?? index
  }

  if (lowest < index) {
    // The summaries made inside this one now depend on the same outer helper.
    for (const member of provisional.slice(provisionalStart)) {
      member.entry.lowestActive = Math.min(member.entry.lowestActive, lowest)
    }
    const entry: CacheEntry = { summary, lowestActive: lowest }
    cache.set(helper, entry)
    provisional.push({ helper, entry })
    noteReached(lowest)
    return summary
  }
  for (const member of provisional.splice(provisionalStart)) cache.delete(member.helper)
  cache.set(helper, { summary, lowestActive: Infinity })
  return summary
}

/**
 * The code that runs when a helper is used: a variable's or property's initializer, a function, or for
 * a class constructed with `new`, its constructor and instance field initializers.
 */
const codeOf = (helper: ts.Declaration): ReadonlyArray<ts.Node> => {
  if (ts.isVariableDeclaration(helper) || ts.isPropertyAssignment(helper)) {
    return helper.initializer === undefined ? [] : [helper.initializer]
  }
  if (!ts.isClassLike(helper)) return [helper]

  // NOTE: a base class's constructor and fields are followed only through an explicit `super(...)` call.
  const code: Array<ts.Node> = []
  for (const member of helper.members) {
    if (ts.isConstructorDeclaration(member)) code.push(member)
    const isStatic = ts.canHaveModifiers(member) &&
      ts.getModifiers(member)?.some((modifier) => modifier.kind === ts.SyntaxKind.StaticKeyword) === true
    if (ts.isPropertyDeclaration(member) && member.initializer !== undefined && !isStatic) code.push(member.initializer)
  }
  return code
}

/** Records that the helper being summarised reaches the active helper at `index`. */
const noteReached = (index: number): void => {
  const top = lowestReached.length - 1
  if (top >= 0 && index < lowestReached[top]!) lowestReached[top] = index
}

const isNewKey = (summary: Summary, key: string): boolean => {
  const keys = summaryKeys.get(summary) ?? new Set<string>()
  summaryKeys.set(summary, keys)
  if (keys.has(key)) return false

  keys.add(key)
  return true
}

const siteKey = (node: ts.Node): string => `${node.getSourceFile().fileName}:${node.pos}:${node.end}`

const skipOuterExpressions = (expression: ts.Expression): ts.Expression => {
  let node = expression
  while (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) node = node.expression
  return node
}

/** Results of `isActivityOnlyBinding`, which depend only on the program's code. */
const activityOnlyBindings = new WeakMap<ts.Node, boolean>()

/** The parameter that receives argument `index`, unless it is a rest parameter or has a destructuring pattern. */
const parameterAt = (declaration: ts.SignatureDeclaration, index: number): ts.ParameterDeclaration | undefined => {
  const parameter = declaration.parameters[index]
  return parameter === undefined || parameter.dotDotDotToken !== undefined ? undefined : parameter
}

const isFunctionLike = (node: ts.Node): node is ts.FunctionLikeDeclaration =>
  ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isFunctionDeclaration(node) ||
  ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isConstructorDeclaration(node)

const isWithin = (node: ts.Node, ancestor: ts.Node): boolean =>
  node.getSourceFile() === ancestor.getSourceFile() && node.pos >= ancestor.pos && node.end <= ancestor.end

const isModuleLevel = (declaration: ts.VariableDeclaration): boolean => {
  const statement = declaration.parent.parent
  return ts.isVariableStatement(statement) && ts.isSourceFile(statement.parent)
}

const hasDeterministicTag = (declaration: ts.Node): boolean => {
  const owner = ts.isVariableDeclaration(declaration.parent) || ts.isPropertyAssignment(declaration.parent)
    ? declaration.parent
    : declaration
  return ts.getJSDocTags(owner).some((tag) => tag.tagName.text === "deterministic")
}

const helperName = (helper: ts.Declaration): string => {
  if (ts.isPropertyAssignment(helper) && ts.isVariableDeclaration(helper.parent.parent)) {
    return `${helper.parent.parent.name.getText()}.${helper.name.getText()}`
  }
  if (ts.isPropertyAssignment(helper.parent)) return helperName(helper.parent)
  if (ts.isClassLike(helper)) return `new ${helper.name?.getText() ?? "anonymous class"}`
  if (ts.isConstructorDeclaration(helper)) return `new ${helper.parent.name?.getText() ?? "anonymous class"}`
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

const findLastIndex = <A>(items: ReadonlyArray<A>, predicate: (item: A, index: number) => boolean): number => {
  for (let index = items.length - 1; index >= 0; index--) {
    if (predicate(items[index]!, index)) return index
  }
  return -1
}
