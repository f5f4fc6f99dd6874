/**
 * Workflows: the deterministic glue between activities.
 *
 * A workflow is started by a request (see `WorkflowRequest`). A function of the request gives the
 * execution id, so sending the same request twice joins one execution. The body is replayed from
 * the top after a restart, taking recorded activity outcomes instead of running activities again,
 * so it must take the same path given the same outcomes: clock reads, randomness and I/O belong in
 * activities.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import { yieldExecution as yieldStep } from "./internal/yieldExecution"
import type { WorkflowContext } from "./WorkflowContext"
import type * as WorkflowRequest from "./WorkflowRequest"

/**
 * Any request class made with `WorkflowRequest`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestClass<Request extends WorkflowRequest.Any = WorkflowRequest.Any> {
  new(...args: ReadonlyArray<any>): Request
  readonly tag: string
  readonly success: Schema.Top
  readonly failure: Schema.Top
}

/**
 * A workflow definition.
 *
 * @since 0.1.0
 * @category models
 */
export interface Workflow<Request extends WorkflowRequest.Any, R> {
  readonly tag: string
  readonly request: RequestClass<Request>
  readonly executionId: (request: Request) => string
  readonly body: (
    request: Request
  ) => Effect.Effect<WorkflowRequest.Success<Request>, WorkflowRequest.Failure<Request>, R | WorkflowContext>
}

/**
 * Any workflow.
 *
 * @since 0.1.0
 * @category models
 */
export type Any = Workflow<any, any>

/**
 * The request type of a workflow.
 *
 * @since 0.1.0
 * @category type-level
 */
export type RequestOf<W> = W extends Workflow<infer Request, infer _R> ? Request : never

/**
 * The services a workflow's body needs besides its `WorkflowContext`.
 *
 * @since 0.1.0
 * @category type-level
 */
export type ServicesOf<W> = W extends Workflow<infer _Request, infer R> ? R : never

/**
 * Defines a workflow for a request class.
 *
 * @example
 * ```ts
 * const processPayment = Workflow.make(
 *   ProcessPayment,
 *   (request) => `ProcessPayment@${request.orderId}`,
 *   ({ orderId, cardNumber }) =>
 *     Effect.gen(function*() {
 *       const amount = yield* getTotalAmount(orderId)
 *       yield* chargeCreditCard(cardNumber, amount)
 *       return true
 *     })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <C extends RequestClass, R>(
  request: C,
  executionId: (request: InstanceType<C>) => string,
  body: (
    request: InstanceType<C>
  ) => Effect.Effect<WorkflowRequest.Success<InstanceType<C>>, WorkflowRequest.Failure<InstanceType<C>>, R>
): Workflow<InstanceType<C>, Exclude<R, WorkflowContext>> => ({
  tag: request.tag,
  request: request as unknown as RequestClass<InstanceType<C>>,
  executionId,
  body: body as Workflow<InstanceType<C>, Exclude<R, WorkflowContext>>["body"]
})

/**
 * Groups workflows for one engine.
 *
 * @since 0.1.0
 * @category constructors
 */
export const union = <const Workflows extends ReadonlyArray<Any>>(...workflows: Workflows): Workflows => workflows

/**
 * Pauses the execution: the engine stops running it, marks it `paused`, and runs it again when an
 * operator calls `engine.resume(executionId)`. Use it when a step needs a human, for example after
 * an activity keeps failing in a way that retries cannot fix.
 *
 * The pause is a step of the journal: on replay after the resume, the call returns at once.
 *
 * @since 0.1.0
 * @category durable primitives
 */
export const yieldExecution: (reason?: string) => Effect.Effect<void, never, WorkflowContext> = yieldStep
