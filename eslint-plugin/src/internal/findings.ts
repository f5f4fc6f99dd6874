import * as path from "node:path"
import type ts from "typescript"
import type { Concern } from "./knownApis"

/** A helper between a reported site and the API it reaches, with the line where it goes further. */
export interface Frame {
  readonly name: string
  readonly isFunction: boolean
  readonly fileName: string
  readonly line: number
}

/** The subject of a finding: a known API of one concern, or one of the structural checks. */
export type FindingKind =
  | { readonly _tag: "Api"; readonly concern: Concern; readonly api: string; readonly seedable: boolean }
  | { readonly _tag: "NameFromApi"; readonly concern: Concern; readonly api: string }
  | { readonly _tag: "ConstantNameInParallel"; readonly name: string }
  | { readonly _tag: "DuplicateName"; readonly name: string }
  | { readonly _tag: "RetryAroundActivity"; readonly api: string; readonly activity: string }
  | { readonly _tag: "SharedState"; readonly change: "reassigned" | "mutated"; readonly variable: string }

/** Something in a workflow context that can make a replay differ from the first run. */
export interface Finding {
  readonly kind: FindingKind
  /** The node to report: in the walked tree, the call of the helper that leads to the API. */
  readonly site: ts.Node
  /** The helpers between `site` and the API, outermost first, at most `maxDepth` of them. */
  readonly via: ReadonlyArray<Frame>
  /** How many inner helpers were dropped from `via` to keep it within `maxDepth`. */
  readonly hiddenFrames?: number
}

/** A call of an activity factory reached from a workflow context. */
export interface ActivitySite {
  /** The `Activity.make` call, wherever it is. */
  readonly make: ts.Node
  /** The activity name when its type is a string literal type. */
  readonly name: string | undefined
  readonly site: ts.Node
  readonly via: ReadonlyArray<Frame>
  readonly hiddenFrames?: number
}

/** The findings and activity calls of a workflow context or of a helper. */
export interface Summary {
  readonly findings: Array<Finding>
  readonly activities: Array<ActivitySite>
}

/** A frame for a helper whose relevant line is at `node`. */
export const frameAt = (name: string, isFunction: boolean, node: ts.Node): Frame => {
  const sourceFile = node.getSourceFile()
  const line = sourceFile.getLineAndCharacterOfPosition(node.getStart(sourceFile)).line + 1
  return { name, isFunction, fileName: sourceFile.fileName, line }
}

/**
 * Formats the helper chain of a finding for a message, innermost first:
 * `` in `trackingCode()` (src/tracking.ts:3), called from `label()` (src/label.ts:8)``. Returns an
 * empty string when the finding is in the reported file's own code. When `hiddenFrames` inner helpers
 * were dropped, the chain starts with `` through N more helper calls,``.
 */
export const formatChain = (via: ReadonlyArray<Frame>, cwd: string, hiddenFrames = 0): string => {
  const frames = [...via]
    .reverse()
    .map((frame, index) => {
      const name = frame.isFunction ? `${frame.name}()` : frame.name
      const location = `${path.relative(cwd, frame.fileName)}:${frame.line}`
      return `${index === 0 && hiddenFrames === 0 ? " in" : " called from"} \`${name}\` (${location})`
    })
  if (hiddenFrames > 0) frames.unshift(` through ${hiddenFrames} more helper call${hiddenFrames === 1 ? "" : "s"}`)

  return frames.join(",")
}
