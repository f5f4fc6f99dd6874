/**
 * JSON encoding of user values through their schemas, for the journal.
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

type JsonCodec = Schema.Codec<unknown, unknown>

const codecs = new WeakMap<object, JsonCodec>()

const codecOf = (schema: Schema.Top): JsonCodec => {
  let codec = codecs.get(schema)
  if (codec === undefined) {
    codec = Schema.toCodecJson(schema as Schema.Codec<unknown, unknown>) as unknown as JsonCodec
    codecs.set(schema, codec)
  }
  return codec
}

/** Encodes `value` to a JSON value through `schema`; fails with the schema issue as text. */
export const encodeJson = (schema: Schema.Top, value: unknown): Effect.Effect<unknown, string> =>
  Effect.mapError(
    Schema.encodeUnknownEffect(codecOf(schema))(value) as Effect.Effect<unknown, Schema.SchemaError>,
    (error) => error.message
  )

/** Decodes a JSON value through `schema`; fails with the schema issue as text. */
export const decodeJson = (schema: Schema.Top, value: unknown): Effect.Effect<unknown, string> =>
  Effect.mapError(
    Schema.decodeUnknownEffect(codecOf(schema))(value) as Effect.Effect<unknown, Schema.SchemaError>,
    (error) => error.message
  )

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * Makes a text safe for every journal backend: NUL characters are written as `\u0000` and lone
 * surrogates become U+FFFD, because Postgres text cannot hold NUL and UTF-8 has no lone surrogates.
 */
export const storableText = (text: string): string => text.replace(/\u0000/g, "\\u0000").replace(loneSurrogate, "\uFFFD")

/** Whether a text is stored unchanged by every backend (see `storableText`). */
export const isStorableText = (text: string): boolean => storableText(text) === text
