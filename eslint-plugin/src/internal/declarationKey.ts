import * as path from "node:path"
import ts from "typescript"

/**
 * Computes the key under which the tables of known APIs list a declaration:
 * `module:Qualified.Name`. `module` is `global` for declarations of the default libraries and of
 * `declare global` blocks, the name of a `declare module "name"` block (without `node:`), or the
 * package subpath of a library file (`effect/dist/Clock.d.ts` gives `effect/Clock`). Returns
 * `undefined` for declarations in the project's own files.
 */
export const declarationKey = (program: ts.Program, declaration: ts.Node): string | undefined => {
  const names: Array<string> = []
  let moduleName: string | undefined
  let node: ts.Node | undefined = declaration
  while (node !== undefined && !ts.isSourceFile(node)) {
    if (ts.isModuleDeclaration(node)) {
      if (ts.isStringLiteral(node.name)) {
        moduleName = node.name.text.replace(/^node:/, "")
        break
      }
      if ((node.flags & ts.NodeFlags.GlobalAugmentation) !== 0) {
        moduleName = "global"
        break
      }
      names.unshift(node.name.text)
    } else {
      const name = nameOfDeclaration(node)
      if (name !== undefined) names.unshift(name)
    }
    node = node.parent
  }
  if (moduleName === undefined) {
    const sourceFile = declaration.getSourceFile()
    moduleName = moduleOfFile(program, sourceFile)
    if (moduleName === undefined) return undefined
  }
  // A module or namespace itself (`import * as Random`) is no API.
  if (names.length === 0) return undefined

  return `${moduleName}:${names.join(".")}`
}

/** Tells whether a file belongs to a library (a default library or a file under `node_modules`). */
export const isLibraryFile = (program: ts.Program, sourceFile: ts.SourceFile): boolean =>
  program.isSourceFileDefaultLibrary(sourceFile) || sourceFile.fileName.includes("/node_modules/")

const moduleOfFile = (program: ts.Program, sourceFile: ts.SourceFile): string | undefined => {
  if (!isLibraryFile(program, sourceFile)) return undefined
  if (program.isSourceFileDefaultLibrary(sourceFile) || !ts.isExternalModule(sourceFile)) return "global"
  return packageSubpath(sourceFile.fileName)
}

/** `…/node_modules/effect/dist/workflow/Workflow.d.ts` gives `effect/workflow/Workflow`. */
const packageSubpath = (fileName: string): string => {
  const inPackage = fileName.slice(fileName.lastIndexOf("/node_modules/") + "/node_modules/".length)
  const segments = inPackage.split("/")
  const packageName = segments[0]?.startsWith("@") ? segments.splice(0, 2).join("/") : segments.splice(0, 1)[0]!
  const rest = segments
    .filter((segment, index) => !(index === 0 && ["dist", "build", "lib", "types"].includes(segment)))
    .filter((segment, index) => !(index === 0 && ["esm", "cjs", "dts"].includes(segment)))
    .join("/")
    .replace(/\.d\.[mc]?ts$/, "")
    .replace(/(^|\/)index$/, "")
  return rest === "" ? packageName : path.posix.join(packageName, rest)
}

const nameOfDeclaration = (node: ts.Node): string | undefined => {
  if (ts.isConstructSignatureDeclaration(node) || ts.isConstructorDeclaration(node)) return "new"
  if (ts.isCallSignatureDeclaration(node)) {
    return ts.isInterfaceDeclaration(node.parent) || ts.isClassDeclaration(node.parent) ? "call" : undefined
  }
  if (
    ts.isInterfaceDeclaration(node) || ts.isClassDeclaration(node) || ts.isFunctionDeclaration(node) ||
    ts.isVariableDeclaration(node) || ts.isMethodSignature(node) || ts.isPropertySignature(node) ||
    ts.isMethodDeclaration(node) || ts.isPropertyDeclaration(node) || ts.isEnumDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) || ts.isGetAccessorDeclaration(node)
  ) {
    return node.name !== undefined && (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name))
      ? node.name.text
      : undefined
  }
  return undefined
}
