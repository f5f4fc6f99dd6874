/**
 * The example's scenarios: what each one sets up and what a correct run ends with.
 */

/** A test card number the gateway declines. */
export const DECLINED_CARD = "4000000000000002"

export interface Expected {
  readonly charges: number
  readonly refunds: number
  readonly trackingCodes: number
  readonly shipments: number
  readonly mails: number
  /** The workflow's return value. */
  readonly result: boolean
}

export interface Scenario {
  readonly name: string
  /** Lines of text, each short enough for a terminal. */
  readonly description: ReadonlyArray<string>
  readonly cardNumber: string
  /** The shipping API responds with OutOfStock. */
  readonly outOfStock: boolean
  /** Kill the first engine process with SIGKILL as soon as the gateway records the charge. */
  readonly killAfterCharge: boolean
  readonly expected: Expected
}

export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "kill-after-charge",
    description: [
      "The engine process is killed with SIGKILL right after the gateway charges the card, before the",
      "gateway sends its response. A second engine process resumes the execution from the journal, and",
      "the card is charged once."
    ],
    cardNumber: "4242424242424242",
    outOfStock: false,
    killAfterCharge: true,
    expected: { charges: 1, refunds: 0, trackingCodes: 1, shipments: 1, mails: 1, result: true }
  },
  {
    name: "out-of-stock",
    description: [
      "The shipping API responds with OutOfStock after the card is charged, so the workflow refunds the",
      "charge and returns false."
    ],
    cardNumber: "4242424242424242",
    outOfStock: true,
    killAfterCharge: false,
    expected: { charges: 1, refunds: 1, trackingCodes: 0, shipments: 0, mails: 0, result: false }
  },
  {
    name: "card-declined",
    description: [
      "The gateway declines the card, so nothing is charged, shipped or mailed, and the workflow returns",
      "false."
    ],
    cardNumber: DECLINED_CARD,
    outOfStock: false,
    killAfterCharge: false,
    expected: { charges: 0, refunds: 0, trackingCodes: 0, shipments: 0, mails: 0, result: false }
  }
]
