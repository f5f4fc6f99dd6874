/**
 * Tables of library APIs whose result differs between a run and its replay. Keys are the ones
 * `declarationKey` computes: `module:Qualified.Name`.
 */

/** A kind of non-determinism; each rule reports one. */
export type Concern = "time" | "randomness" | "environment" | "io" | "timers" | "races" | "gc"

/** How an API is reached at a site: called, constructed with `new`, or only referenced. */
export type Usage = "call" | "new" | "reference"

interface KnownApi {
  readonly concern: Concern
  /** How messages show the API, for example `Date.now()`. */
  readonly display: string
  /** Flag only a `new` or a call with no arguments (`new Date()` but not `new Date(x)`). */
  readonly zeroArgumentsOnly?: boolean
}

interface KnownModule {
  readonly concern: Concern
  /** The module prefix of the key, `fs:` or `effect/FileSystem:`. */
  readonly prefix: string
  /** Flag calls only: reading a constant such as `os.EOL` or a service tag is deterministic. */
  readonly callsOnly: boolean
  /** Keys of the module that are deterministic, for example a seeded generator. */
  readonly except?: ReadonlyArray<string>
}

const api = (concern: Concern, display: string, keys: ReadonlyArray<string>, zeroArgumentsOnly = false) =>
  keys.map((key) => [key, { concern, display, zeroArgumentsOnly }] as const)

const exactApis = new Map<string, KnownApi>([
  ...api("time", "Date.now()", ["global:DateConstructor.now"]),
  ...api("time", "new Date()", ["global:DateConstructor.new"], true),
  ...api("time", "Date()", ["global:DateConstructor.call"]),
  ...api("time", "performance.now()", ["global:Performance.now", "perf_hooks:Performance.now"]),
  ...api("time", "process.hrtime()", ["global:NodeJS.HRTime.call", "global:NodeJS.Process.hrtime"]),
  ...api("time", "process.hrtime.bigint()", ["global:NodeJS.HRTime.bigint"]),
  ...api("time", "process.uptime()", ["global:NodeJS.Process.uptime"]),
  ...api("time", "DateTime.now", ["effect/DateTime:now"]),
  ...api("time", "DateTime.nowAsDate", ["effect/DateTime:nowAsDate"]),
  ...api("time", "DateTime.nowUnsafe()", ["effect/DateTime:nowUnsafe"]),
  ...api("time", "DateTime.nowInCurrentZone", ["effect/DateTime:nowInCurrentZone"]),
  ...api("time", "DateTime.isFuture()", ["effect/DateTime:isFuture", "effect/DateTime:isFutureUnsafe"]),
  ...api("time", "DateTime.isPast()", ["effect/DateTime:isPast", "effect/DateTime:isPastUnsafe"]),

  ...api("randomness", "Math.random()", ["global:Math.random"]),
  ...api("randomness", "crypto.randomUUID()", [
    "global:Crypto.randomUUID",
    "crypto:webcrypto.Crypto.randomUUID",
    "crypto:randomUUID"
  ]),
  ...api("randomness", "crypto.getRandomValues()", [
    "global:Crypto.getRandomValues",
    "crypto:webcrypto.Crypto.getRandomValues",
    "crypto:getRandomValues"
  ]),
  ...["randomBytes", "randomInt", "randomFill", "randomFillSync", "pseudoRandomBytes", "generatePrime",
    "generatePrimeSync", "generateKey", "generateKeySync", "generateKeyPair", "generateKeyPairSync"]
    .flatMap((name) => api("randomness", `crypto.${name}()`, [`crypto:${name}`])),
  // v3 and v5 hash a namespace and a name, so they are deterministic.
  ...["v1", "v4", "v6", "v7"].flatMap((name) => api("randomness", `uuid.${name}()`, [`uuid:${name}`])),
  ...api("randomness", "nanoid()", ["nanoid:nanoid"]),
  ...api("randomness", "customAlphabet()", ["nanoid:customAlphabet"]),

  ...["env", "argv", "argv0", "execArgv", "execPath", "cwd", "pid", "ppid", "platform", "arch", "title",
    "memoryUsage", "cpuUsage", "resourceUsage", "getuid", "getgid", "umask"]
    .flatMap((name) => api("environment", `process.${name}`, [`global:NodeJS.Process.${name}`])),

  ...api("io", "fetch()", ["global:fetch"]),
  ...api("io", "new WebSocket()", ["global:WebSocket.new"]),
  ...["runPromise", "runPromiseExit", "runPromiseWith", "runPromiseExitWith", "runSync", "runSyncExit",
    "runSyncWith", "runSyncExitWith", "runFork", "runForkWith", "runCallback", "runCallbackWith"]
    .flatMap((name) => api("io", `Effect.${name}()`, [`effect/Effect:${name}`])),

  ...["setTimeout", "setInterval", "setImmediate"].flatMap((name) => api("timers", `${name}()`, [`global:${name}`])),
  ...["sleep", "delay", "timeout", "timeoutOption", "timeoutOrElse", "schedule", "scheduleFrom"]
    .flatMap((name) => api("timers", `Effect.${name}()`, [`effect/Effect:${name}`])),

  ...api("races", "Promise.race()", ["global:PromiseConstructor.race"]),
  ...api("races", "Promise.any()", ["global:PromiseConstructor.any"]),
  ...["race", "raceAll", "raceAllFirst", "raceFirst"]
    .flatMap((name) => api("races", `Effect.${name}()`, [`effect/Effect:${name}`])),

  ...api("gc", "new WeakRef()", ["global:WeakRefConstructor.new"]),
  ...api("gc", "new FinalizationRegistry()", ["global:FinalizationRegistryConstructor.new"])
])

const knownModules: ReadonlyArray<KnownModule> = [
  { concern: "time", prefix: "global:Temporal.Now", callsOnly: false },
  { concern: "time", prefix: "effect/Clock:", callsOnly: false, except: ["effect/Clock:Clock"] },
  { concern: "randomness", prefix: "effect/Random:", callsOnly: false, except: ["effect/Random:withSeed"] },
  { concern: "environment", prefix: "os:", callsOnly: true },
  { concern: "environment", prefix: "effect/Config:", callsOnly: false },
  { concern: "environment", prefix: "effect/ConfigProvider:", callsOnly: false },
  ...["fs", "fs/promises", "http", "https", "http2", "net", "tls", "dgram", "dns", "dns/promises", "child_process",
    "readline", "effect/http/HttpClient", "effect/FileSystem", "effect/sql/SqlClient", "@effect/platform/HttpClient",
    "@effect/platform/FileSystem", "@effect/sql/SqlClient", "@effect/sql-pg/PgClient"]
    .map((module) => ({ concern: "io" as const, prefix: `${module}:`, callsOnly: true })),
  { concern: "timers", prefix: "timers:", callsOnly: true },
  { concern: "timers", prefix: "timers/promises:", callsOnly: true }
]

/** A known API found at a site. */
export interface ApiMatch {
  readonly concern: Concern
  readonly display: string
}

/** Looks a declaration key up in the tables, given how the site uses it. */
export const lookupApi = (key: string, usage: Usage, argumentCount: number): ApiMatch | undefined => {
  const exact = exactApis.get(key)
  if (exact !== undefined) {
    if (exact.zeroArgumentsOnly === true && (usage === "reference" || argumentCount > 0)) return undefined

    return { concern: exact.concern, display: exact.display }
  }
  const known = knownModules.find((entry) => key.startsWith(entry.prefix))
  if (known === undefined || known.except?.includes(key) === true) return undefined
  if (known.callsOnly && usage === "reference") return undefined

  return { concern: known.concern, display: displayOfKey(key, usage) }
}

/** `effect/FileSystem:FileSystem.readFile` gives `FileSystem.readFile()`. */
const displayOfKey = (key: string, usage: Usage): string => {
  const [module = "", name = ""] = key.split(":")
  const moduleName = module.slice(module.lastIndexOf("/") + 1)
  const qualified = name.startsWith(`${moduleName}.`) || module === "global" ? name : `${moduleName}.${name}`
  const prefix = usage === "new" ? "new " : ""
  const suffix = usage === "reference" ? "" : "()"
  return `${prefix}${qualified}${suffix}`
}

/** Effect's `retry` and `repeat` functions, which re-run the effect they wrap. */
export const retryKeys: ReadonlySet<string> = new Set([
  "effect/Effect:retry",
  "effect/Effect:retryOrElse",
  "effect/Effect:repeat",
  "effect/Effect:repeatOrElse"
])

/** The functions that run a callback once per element, in parallel when given a `concurrency` option. */
export const forEachKeys: ReadonlySet<string> = new Set(["effect/Effect:forEach", "effect/Effect:all"])

/** `Random.withSeed`, which makes `Random` inside the effect it wraps deterministic. */
export const seededRandomKey = "effect/Random:withSeed"
