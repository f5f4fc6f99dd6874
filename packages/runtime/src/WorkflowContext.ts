/**
 * The context of a running execution, available to a workflow body and to its activities.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { Execution } from "./internal/Execution"

/**
 * @since 0.1.0
 * @category models
 */
export interface WorkflowContextShape {
  readonly executionId: string
  readonly workflow: string
  /**
   * `true` once the engine has begun a graceful shutdown. An activity that runs long can check it
   * and stop early; the execution is not failed and resumes on the next start.
   */
  readonly isGracefulShutdown: Effect.Effect<boolean>
  /** @internal */
  readonly execution: Execution
}

/**
 * The workflow context service. The engine provides it to every execution it runs.
 *
 * @since 0.1.0
 * @category services
 */
export class WorkflowContext extends Context.Service<WorkflowContext, WorkflowContextShape>()(
  "@waymark/runtime/WorkflowContext"
) {}

/**
 * Whether the engine running this execution has begun a graceful shutdown.
 *
 * @since 0.1.0
 * @category accessors
 */
export const isGracefulShutdown: Effect.Effect<boolean, never, WorkflowContext> = Effect.flatMap(
  WorkflowContext,
  (context) => context.isGracefulShutdown
)

/**
 * The id of the running execution.
 *
 * @since 0.1.0
 * @category accessors
 */
export const executionId: Effect.Effect<string, never, WorkflowContext> = Effect.map(
  WorkflowContext,
  (context) => context.executionId
)

/**
 * Reads the workflow context, dying with a message that names `api` when there is none: workflow
 * APIs only work inside a body that an engine runs.
 *
 * @internal
 */
export const require = (api: string): Effect.Effect<WorkflowContextShape> =>
  Effect.flatMap(Effect.serviceOption(WorkflowContext), (option) =>
    option._tag === "Some"
      ? Effect.succeed(option.value)
      : Effect.die(
        new Error(
          `${api} was called outside a workflow execution. It only works inside a workflow body run by a ` +
            `WorkflowEngine (Workflow.make), which provides the WorkflowContext it needs.`
        )
      ))
