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
  send(message: OutgoingMessage): Promise<SendReceipt>;
}
