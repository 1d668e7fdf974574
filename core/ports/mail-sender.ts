/** Sends one prebuilt message: SMTP (nodemailer) in local mode, SES SendRawEmail on AWS. */
export interface OutgoingMessage {
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** The complete RFC 5322 message, CRLF line ends. */
  readonly raw: Buffer;
}

export interface SendReceipt {
  /** What the relay answered (e.g. "250 2.0.0 Ok: queued as 4ABC"). */
  readonly response?: string;
}

export interface MailSender {
  /**
   * A sender paced to a rate (SES's MaxSendRate) waits here for a send slot and holds it for the
   * next `send`. sendProbe calls it before it takes the probe's send time, so time spent waiting
   * for a slot is never round-trip time. Never throws: when no slot can be had, `send` fails.
   */
  reserveSend?(): Promise<void>;
  send(message: OutgoingMessage): Promise<SendReceipt>;
}
