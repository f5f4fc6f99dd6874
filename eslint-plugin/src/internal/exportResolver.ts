import * as path from "node:path"
import ts from "typescript"

/**
 * Resolves exports such as `Workflow.make` of `@waymark/runtime` to their declarations, as the
 * module resolves from a given file. Results are cached per program and directory.
 */
export interface ExportResolver {
  /** The declarations of `exportPath` in `module`, empty when the program does not contain it. */
  readonly declarations: (module: string, exportPath: string) => ReadonlySet<ts.Node>
  /** The union of `declarations` over several places that export the same API. */
  readonly declarationsOfAny: (candidates: ReadonlyArray<readonly [string, string]>) => ReadonlySet<ts.Node>
  /** The folders of the resolved modules, whose files the analysis treats as library code. */
  readonly libraryFolders: () => ReadonlyArray<string>
}

const cache = new WeakMap<ts.Program, Map<string, ReadonlySet<ts.Node>>>()
const folders = new WeakMap<ts.Program, Set<string>>()

export const makeExportResolver = (program: ts.Program, fromFile: string): ExportResolver => {
  const checker = program.getTypeChecker()
  const entries = cache.get(program) ?? new Map<string, ReadonlySet<ts.Node>>()
  cache.set(program, entries)
  const libraryFolders = folders.get(program) ?? new Set<string>()
  folders.set(program, libraryFolders)

  const declarations = (module: string, exportPath: string): ReadonlySet<ts.Node> => {
    const key = `${path.dirname(fromFile)}\0${module}\0${exportPath}`
    const cached = entries.get(key)
    if (cached !== undefined) return cached

    const resolved = resolve(module, exportPath)
    entries.set(key, resolved)
    return resolved
  }

  const resolve = (module: string, exportPath: string): ReadonlySet<ts.Node> => {
    const resolution = ts.resolveModuleName(module, fromFile, program.getCompilerOptions(), ts.sys)
    const fileName = resolution.resolvedModule?.resolvedFileName
    const sourceFile = fileName === undefined ? undefined : program.getSourceFile(fileName)
    if (sourceFile === undefined) return new Set()

    libraryFolders.add(path.dirname(sourceFile.fileName))
    let symbol = checker.getSymbolAtLocation(sourceFile)
    for (const name of exportPath.split(".")) {
      symbol = symbol === undefined ? undefined : checker.tryGetMemberInModuleExports(name, symbol)
      if (symbol !== undefined && (symbol.flags & ts.SymbolFlags.Alias) !== 0) symbol = checker.getAliasedSymbol(symbol)
    }
    return new Set(symbol?.declarations ?? [])
  }

  const declarationsOfAny = (candidates: ReadonlyArray<readonly [string, string]>): ReadonlySet<ts.Node> =>
    new Set(candidates.flatMap(([module, exportPath]) => [...declarations(module, exportPath)]))

  return { declarations, declarationsOfAny, libraryFolders: () => [...libraryFolders] }
}
