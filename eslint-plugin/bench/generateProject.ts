/**
 * Writes a TypeScript project of Waymark workflow files for the lint-time benchmark, with a known
 * set of planted violations.
 */
import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** A rule violation written into one workflow body on purpose. */
export interface PlantedViolation {
  readonly file: string
  readonly ruleId: string
}

/** The files and planted violations of a generated project. */
export interface GeneratedProject {
  readonly directory: string
  readonly workflowFiles: ReadonlyArray<string>
  readonly helperFiles: ReadonlyArray<string>
  readonly violations: ReadonlyArray<PlantedViolation>
}

/** Statements that each break one rule inside a workflow body, and the imports they need. */
const violationKinds: ReadonlyArray<{ ruleId: string; imports: string; statement: string }> = [
  { ruleId: "waymark/no-clock-reads", imports: "", statement: "yield* notify(`started ${Date.now()}`)" },
  { ruleId: "waymark/no-randomness", imports: "", statement: "yield* notify(`${Math.random()}`)" },
  {
    ruleId: "waymark/no-clock-reads",
    imports: `import { stampNow } from "../shared/clock"`,
    statement: "yield* notify(stampNow())"
  },
  {
    ruleId: "waymark/no-environment-reads",
    imports: "",
    statement: `yield* notify(process.env["REGION"] ?? "eu")`
  },
  { ruleId: "waymark/no-in-memory-timers", imports: "", statement: "yield* Effect.sleep(1000)" }
]

/** Every `violationEvery`-th workflow file, starting at `firstViolation`, gets one violation. */
const violationEvery = 25
const firstViolation = 12

/** Workflow files import a helper from the previous file, in chains of this many files. */
const helperChainLength = 10

const formatHelper = `/** Formats one notification line. */
export const formatLine = (chargeId: string, quantity: number): string =>
  \`\${chargeId}: \${quantity} item\${quantity === 1 ? "" : "s"}\`
`

const clockHelper = `/** Returns the current time as an ISO string. Reads the clock. */
export const stampNow = (): string => new Date().toISOString()
`

const workflowName = (index: number): string => `order${String(index).padStart(3, "0")}`

const className = (index: number): string => `Order${String(index).padStart(3, "0")}`

/**
 * Returns the source of workflow file `index`: a request class, three activities whose effects
 * read the clock and randomness (allowed, because activities are journaled), a pure helper that
 * calls the previous file's helper, and a workflow that runs the activities.
 */
const workflowSource = (index: number, violation: (typeof violationKinds)[number] | undefined): string => {
  const name = workflowName(index)
  const request = className(index)
  const chained = index % helperChainLength !== 0
  const imports = [
    `import * as Effect from "effect/Effect"`,
    `import * as Schema from "effect/Schema"`,
    `import { Activity, Workflow, WorkflowRequest } from "@waymark/runtime"`,
    `import { formatLine } from "../shared/format"`,
    chained ? `import { orderKey as previousOrderKey } from "./${workflowName(index - 1)}"` : "",
    violation?.imports ?? ""
  ].filter((line) => line !== "")
  const orderKey = chained
    ? `\`\${previousOrderKey(orderId).slice(0, 40)}-${index}\``
    : `orderId.trim().toLowerCase()`

  return `${imports.join("\n")}

export class ${request} extends WorkflowRequest<${request}>()("${request}", {
  payload: { orderId: Schema.String, quantity: Schema.Number },
  success: Schema.String
}) {}

/** Builds the execution key of an order. */
export const orderKey = (orderId: string): string => ${orderKey}

const reserve = (quantity: number) =>
  Effect.sync(() => ({ reservedAt: Date.now(), quantity })).pipe(
    Activity.make("${name}-reserve", Schema.Struct({ reservedAt: Schema.Number, quantity: Schema.Number }))
  )

const charge = (orderId: string) =>
  Effect.sync(() => \`\${orderId}-\${Math.random()}\`).pipe(Activity.make("${name}-charge", Schema.String))

const notify = (line: string) =>
  Effect.sync(() => line.length).pipe(Activity.make("${name}-notify", Schema.Number))

export const ${name} = Workflow.make(
  ${request},
  (request) => \`${request}@\${orderKey(request.orderId)}\`,
  (request) =>
    Effect.gen(function*() {
      const reservation = yield* reserve(request.quantity)
      const chargeId = yield* charge(request.orderId)
${violation === undefined ? "" : `      ${violation.statement}\n`}      yield* notify(formatLine(chargeId, reservation.quantity))
      return chargeId
    })
)
`
}

/**
 * Writes the project into `directory` (which must exist and be empty). `packageDirectory` is a
 * package whose node_modules contains `effect` and `@waymark/runtime`, and `typesDirectory` is a
 * node_modules/@types folder with `@types/node`. The project links to them, so the type checker
 * resolves the real packages.
 */
export const generateProject = (
  directory: string,
  workflowCount: number,
  packageDirectory: string,
  typesDirectory: string
): GeneratedProject => {
  mkdirSync(join(directory, "src", "shared"), { recursive: true })
  mkdirSync(join(directory, "src", "workflows"), { recursive: true })
  symlinkSync(realpathSync(join(packageDirectory, "node_modules")), join(directory, "node_modules"), "dir")

  writeFileSync(join(directory, "package.json"), JSON.stringify({ private: true, type: "module" }, null, 2))
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2022"],
      module: "ESNext",
      moduleResolution: "Bundler",
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      typeRoots: [realpathSync(typesDirectory)],
      types: ["node"]
    },
    include: ["src"]
  }
  writeFileSync(join(directory, "tsconfig.json"), JSON.stringify(tsconfig, null, 2))

  const helperFiles = [join(directory, "src", "shared", "format.ts"), join(directory, "src", "shared", "clock.ts")]
  writeFileSync(helperFiles[0]!, formatHelper)
  writeFileSync(helperFiles[1]!, clockHelper)

  const workflowFiles: Array<string> = []
  const violations: Array<PlantedViolation> = []
  for (let index = 0; index < workflowCount; index++) {
    const file = join(directory, "src", "workflows", `${workflowName(index)}.ts`)
    const planted = index >= firstViolation && (index - firstViolation) % violationEvery === 0
    const violation = planted
      ? violationKinds[((index - firstViolation) / violationEvery) % violationKinds.length]
      : undefined
    writeFileSync(file, workflowSource(index, violation))
    workflowFiles.push(file)
    if (violation !== undefined) violations.push({ file, ruleId: violation.ruleId })
  }

  return { directory, workflowFiles, helperFiles, violations }
}
