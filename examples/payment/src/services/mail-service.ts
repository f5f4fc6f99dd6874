/**
 * The mail service: it records each mail it is asked to send.
 */
import * as Schema from "effect/Schema"
import { notFound, readJsonBody, type RunningServer, startJsonServer } from "./http"

/** A mail accepted for delivery. */
export interface Mail {
  readonly mailId: string
  readonly to: string
  readonly subject: string
  readonly text: string
  readonly idempotencyKey: string
}

export interface MailService extends RunningServer {
  /** Every mail accepted, once per idempotency key. */
  readonly mails: ReadonlyArray<Mail>
}

const MailRequest = Schema.Struct({
  to: Schema.NonEmptyString,
  subject: Schema.String,
  text: Schema.String,
  idempotencyKey: Schema.NonEmptyString
})

/**
 * Starts the mail service on a free loopback port.
 *
 * `POST /mails` with `{ to, subject, text, idempotencyKey }` records the mail and returns 202
 * `{ mailId }`; a repeated key returns the first mail's id with 200 and records nothing.
 */
export const startMailService = async (): Promise<MailService> => {
  const mails: Array<Mail> = []
  const mailsByKey = new Map<string, Mail>()

  const server = await startJsonServer("mail service", async (request, path) => {
    if (path !== "/mails" || request.method !== "POST") return notFound(request, path)

    const body = await readJsonBody(request, MailRequest)
    const existing = mailsByKey.get(body.idempotencyKey)
    if (existing !== undefined) return { status: 200, body: { mailId: existing.mailId } }

    const mail: Mail = { mailId: `mail-${mails.length + 1}`, ...body }
    mails.push(mail)
    mailsByKey.set(body.idempotencyKey, mail)
    return { status: 202, body: { mailId: mail.mailId } }
  })

  return { ...server, mails }
}
