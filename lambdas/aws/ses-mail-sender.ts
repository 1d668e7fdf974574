import { type SESClient, SendRawEmailCommand } from "@aws-sdk/client-ses";
import type { MailSender, OutgoingMessage, SendReceipt } from "../../core/ports/mail-sender.ts";

/**
 * MailSender over SES SendRawEmail (SES v1): the prebuilt probe goes out byte for byte, with
 * the envelope given explicitly. `Source` is the envelope sender (bounces+<probeId>@ the
 * inbound domain), so SES forwards bounces there; its domain must be a verified SES identity.
 * SES may replace the Message-ID header; correlation relies on the X-Scout-Probe token only.
 */
export class SesMailSender implements MailSender {
  constructor(private readonly ses: SESClient) {}

  async send(message: OutgoingMessage): Promise<SendReceipt> {
    const result = await this.ses.send(
      new SendRawEmailCommand({
        Source: message.envelope.from,
        Destinations: [...message.envelope.to],
        RawMessage: { Data: message.raw },
      }),
    );
    return { response: `SES accepted, MessageId ${result.MessageId ?? "(none)"}` };
  }
}
