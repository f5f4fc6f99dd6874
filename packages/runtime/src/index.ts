/**
 * Waymark's runtime: durable workflows on Effect.
 *
 * @since 0.1.0
 */
export * as Activity from "./Activity"
export * as DurableExecutionJournal from "./DurableExecutionJournal"
export * as FaultInjection from "./FaultInjection"
export * as InMemoryJournal from "./InMemoryJournal"
export * as JournalEvent from "./JournalEvent"
export * as Workflow from "./Workflow"
export * as WorkflowContext from "./WorkflowContext"
export * as WorkflowEngine from "./WorkflowEngine"
export * as WorkflowError from "./WorkflowError"
export { WorkflowRequest } from "./WorkflowRequest"
export type * as WorkflowRequestTypes from "./WorkflowRequest"
