/**
 * Measures how long the plugin's recommended rules take to lint a project of Waymark workflows.
 *
 * It generates a project of `--files` workflow files (each with three activities, a helper that
 * calls the previous file's helper, and one violation in every 25th file) in a temporary folder
 * linked to the workspace's `effect` and `@waymark/runtime`. Then it lints the whole project with
 * one ESLint instance and `projectService`, and lints one edited file again in the same warm
 * instance, as an editor does on each change. It exits with 1 when the problems found differ from
 * the planted violations.
 *
 * Usage: pnpm --filter @waymark/eslint-plugin bench [--files 300] [--relints 5] [--keep]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import tsParser from "@typescript-eslint/parser"
import { ESLint, type Linter } from "eslint"
import waymark from "../src/index"
import { generateProject, type PlantedViolation } from "./generateProject"

// `pnpm bench -- --files 30` passes the `--` on, so a leading one is dropped.
const args = process.argv.slice(2)
const { values } = parseArgs({
  args: args[0] === "--" ? args.slice(1) : args,
  options: {
    files: { type: "string", default: "300" },
    relints: { type: "string", default: "5" },
    keep: { type: "boolean", default: false }
  }
})
const workflowCount = Number(values.files)
const relintCount = Number(values.relints)
if (!Number.isInteger(workflowCount) || workflowCount < 13) {
  throw new Error(`invalid --files ${values.files}: pass an integer of at least 13, because the first planted violation is in file 12`)
}
if (!Number.isInteger(relintCount) || relintCount < 1) {
  throw new Error(`invalid --relints ${values.relints}: pass a positive integer`)
}

const pluginDirectory = join(dirname(fileURLToPath(import.meta.url)), "..")
const typesDirectory = join(pluginDirectory, "..", "node_modules", "@types")
const directory = mkdtempSync(join(tmpdir(), "waymark-lint-bench-"))

const formatMs = (ms: number): string => `${ms.toFixed(1)} ms`

const median = (samples: ReadonlyArray<number>): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Lists each planted violation that was not reported and each problem that was not planted. */
const compareProblems = (
  results: ReadonlyArray<ESLint.LintResult>,
  planted: ReadonlyArray<PlantedViolation>
): Array<string> => {
  const expected = new Map<string, Array<string>>()
  for (const violation of planted) expected.set(violation.file, [...(expected.get(violation.file) ?? []), violation.ruleId])

  const mismatches: Array<string> = []
  for (const result of results) {
    const remaining = [...(expected.get(result.filePath) ?? [])]
    for (const message of result.messages) {
      const index = remaining.indexOf(message.ruleId ?? "")
      if (index >= 0) {
        remaining.splice(index, 1)
        continue
      }
      const where = `${relative(directory, result.filePath)}:${message.line}:${message.column}`
      mismatches.push(`unexpected ${message.ruleId ?? "fatal error"} at ${where}: ${message.message}`)
    }
    for (const ruleId of remaining) mismatches.push(`missing ${ruleId} in ${relative(directory, result.filePath)}`)
    expected.delete(result.filePath)
  }
  for (const [file, ruleIds] of expected) mismatches.push(`not linted: ${relative(directory, file)} (${ruleIds.join(", ")})`)
  return mismatches
}

const countProblems = (results: ReadonlyArray<ESLint.LintResult>): number =>
  results.reduce((total, result) => total + result.messages.length, 0)

try {
  const project = generateProject(directory, workflowCount, pluginDirectory, typesDirectory)

  const overrideConfig: Array<Linter.Config> = [
    {
      files: ["**/*.ts"],
      languageOptions: {
        parser: tsParser,
        parserOptions: { projectService: true, tsconfigRootDir: directory }
      }
    },
    ...(waymark.configs.recommended as Array<Linter.Config>)
  ]
  const eslint = new ESLint({ cwd: directory, overrideConfigFile: true, overrideConfig })

  const start = performance.now()
  const results = await eslint.lintFiles(["src"])
  const totalMs = performance.now() - start

  // The editor case: the file changes and is linted again by the same, warm ESLint instance.
  const editedFile = project.violations[0]!.file
  const source = readFileSync(editedFile, "utf8")
  const relintMs: Array<number> = []
  let relintResults: Array<ESLint.LintResult> = []
  for (let edit = 1; edit <= relintCount; edit++) {
    const relintStart = performance.now()
    relintResults = await eslint.lintText(`${source}\n// edit ${edit}\n`, { filePath: editedFile })
    relintMs.push(performance.now() - relintStart)
  }

  const mismatches = compareProblems(results, project.violations)
  const relintMismatches = compareProblems(
    relintResults,
    project.violations.filter((violation) => violation.file === editedFile)
  )

  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`)
  console.log(`load average at the end of the run (1 min): ${loadavg()[0]!.toFixed(2)}`)
  console.log(`project: ${project.workflowFiles.length} workflow files + ${project.helperFiles.length} helper files`)
  console.log(`total lint time: ${formatMs(totalMs)} for ${results.length} files`)
  console.log(`files per second: ${(results.length / (totalMs / 1000)).toFixed(1)}`)
  console.log(`time per file (total / files): ${formatMs(totalMs / results.length)}`)
  console.log(
    `one edited file linted again, warm (${relintCount} runs): median ${formatMs(median(relintMs))}, ` +
      `max ${formatMs(Math.max(...relintMs))}, first ${formatMs(relintMs[0]!)}`
  )
  console.log(`problems found: ${countProblems(results)}, planted: ${project.violations.length}`)
  console.log(`problems in the edited file: ${countProblems(relintResults)}, planted: 1`)

  const allMismatches = [...mismatches, ...relintMismatches.map((line) => `after the edit: ${line}`)]
  for (const line of allMismatches) console.error(line)
  if (allMismatches.length > 0) process.exitCode = 1
  if (values.keep) console.log(`generated project kept in ${directory}`)
} finally {
  if (!values.keep) rmSync(directory, { recursive: true, force: true })
}
