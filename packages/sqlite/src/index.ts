/**
 * Waymark's embedded journal: one SQLite file in WAL mode.
 *
 * @since 0.1.0
 */
export * as SqliteJournal from "./SqliteJournal"
