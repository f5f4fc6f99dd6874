/**
 * The command line of `src/main.ts`: which scenario to run, and on which journal.
 */
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { PostgresJournal } from "@waymark/postgres"
import {
  defaultPostgresSchema,
  type JournalKind,
  journalKinds,
  type JournalSettings,
  postgresUrlFromEnvironment,
  validateSchemaName
} from "./journal-settings"
import { type Scenario, scenarios } from "./scenarios"

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export interface Arguments {
  readonly scenario: Scenario
  readonly journal: JournalSettings
}

const usage = `Usage: tsx src/main.ts [--scenario NAME] [--journal sqlite|postgres] [--schema NAME]

Options:
  --scenario NAME  The scenario to run. The default is ${scenarios[0]!.name}.
  --journal KIND   sqlite (the default): a file in .waymark/, deleted at the start of the run.
                   postgres: the server in DATABASE_URL, else ${PostgresJournal.defaultUrl}.
  --schema NAME    The Postgres schema of the journal, ${defaultPostgresSchema} by default. The
                   run drops it with everything in it before it starts.

Scenarios:
${scenarios.map((scenario) => `  ${scenario.name}`).join("\n")}`

/** Prints `message` and the usage to stderr, and exits with code 2. */
const exitWithUsageError = (message: string): never => {
  console.error(`${message}\n\n${usage}`)
  process.exit(2)
}

/**
 * Parses `process.argv`. Prints the usage and exits with code 0 for `--help`, and with code 2 for
 * invalid arguments.
 */
export const parseArguments = (): Arguments => {
  let values: {
    readonly scenario?: string | undefined
    readonly journal?: string | undefined
    readonly schema?: string | undefined
    readonly help?: boolean | undefined
  }
  try {
    values = parseArgs({
      options: {
        scenario: { type: "string" },
        journal: { type: "string" },
        schema: { type: "string" },
        help: { type: "boolean", short: "h" }
      }
    }).values
  } catch (error) {
    return exitWithUsageError(error instanceof Error ? error.message : String(error))
  }
  if (values.help === true) {
    console.log(usage)
    process.exit(0)
  }

  const scenarioName = values.scenario ?? scenarios[0]!.name
  const scenario = scenarios.find((candidate) => candidate.name === scenarioName)
  if (scenario === undefined) {
    return exitWithUsageError(
      `Unknown scenario "${scenarioName}". Valid scenarios: ${scenarios.map((known) => known.name).join(", ")}.`
    )
  }

  const kind = values.journal ?? "sqlite"
  if (!isJournalKind(kind)) {
    return exitWithUsageError(`Unknown journal "${kind}". Valid journals: ${journalKinds.join(", ")}.`)
  }
  if (kind === "sqlite") {
    if (values.schema !== undefined) return exitWithUsageError("--schema is valid only with --journal postgres.")
    return { scenario, journal: { kind, file: path.join(exampleDir, ".waymark", `payment-${scenario.name}.db`) } }
  }

  const schema = values.schema ?? defaultPostgresSchema
  const invalidSchema = validateSchemaName(schema)
  if (invalidSchema !== undefined) return exitWithUsageError(invalidSchema)
  return { scenario, journal: { kind, url: postgresUrlFromEnvironment(), schema } }
}

const isJournalKind = (value: string): value is JournalKind => (journalKinds as ReadonlyArray<string>).includes(value)
