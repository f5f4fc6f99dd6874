/**
 * Schema-backed requests that start workflow executions.
 *
 * A request class carries a tag (the workflow's name), a payload schema, and the schemas of the
 * workflow's success and failure, so that the engine can validate what it is sent and store what
 * the workflow returns.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Type-level marker linking a request instance to its workflow's result types.
 *
 * @since 0.1.0
 * @category models
 */
export interface ResultOf<A, E> {
  readonly "~waymark/WorkflowRequest/result"?: { readonly success: A; readonly failure: E }
}

/**
 * A request class: a `Schema.TaggedClass` plus the workflow's success and failure schemas.
 *
 * @since 0.1.0
 * @category models
 */
export type WorkflowRequestClass<
  Self,
  Tag extends string,
  Fields extends Schema.Struct.Fields,
  Success extends Schema.Top,
  Failure extends Schema.Top
> =
  & Schema.Class<Self, Schema.TaggedStruct<Tag, Fields>, ResultOf<Success["Type"], Failure["Type"]>>
  & {
    readonly tag: Tag
    readonly success: Success
    readonly failure: Failure
  }

/**
 * Any request instance: a tagged value whose class carries the schemas.
 *
 * @since 0.1.0
 * @category models
 */
export interface Any {
  readonly _tag: string
}

/**
 * The success type of a request's workflow.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Success<R> = R extends ResultOf<infer A, infer _E> ? A : never

/**
 * The failure type of a request's workflow.
 *
 * @since 0.1.0
 * @category type-level
 */
export type Failure<R> = R extends ResultOf<infer _A, infer E> ? E : never

/**
 * Defines a request class that starts a workflow.
 *
 * The tag names the workflow, and the payload fields become the request's own fields. `success`
 * and `failure` describe what the workflow returns, and are used to store its result in the journal.
 *
 * @example
 * ```ts
 * class ProcessPayment extends WorkflowRequest<ProcessPayment>()("ProcessPayment", {
 *   payload: { orderId: Schema.String, cardNumber: Schema.String },
 *   success: Schema.Boolean,
 *   failure: Schema.Never
 * }) {}
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const WorkflowRequest = <Self = never>() =>
<
  const Tag extends string,
  const Fields extends Schema.Struct.Fields,
  Success extends Schema.Top = Schema.Void,
  Failure extends Schema.Top = Schema.Never
>(
  tag: Tag,
  options: {
    readonly payload: Fields
    readonly success?: Success
    readonly failure?: Failure
  }
): WorkflowRequestClass<Self, Tag, Fields, Success, Failure> => {
  const base = Schema.TaggedClass<Self>()(tag, options.payload) as unknown as object
  return Object.assign(base, {
    tag,
    success: options.success ?? Schema.Void,
    failure: options.failure ?? Schema.Never
  }) as unknown as WorkflowRequestClass<Self, Tag, Fields, Success, Failure>
}
