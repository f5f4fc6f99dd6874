/**
 * Waymark's shared journal: PostgreSQL, for several engines on one or many machines.
 *
 * @since 0.1.0
 */
export * as PostgresJournal from "./PostgresJournal"
