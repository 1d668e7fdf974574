import { z } from "zod";
import { parseEndpointUrl } from "../checks/endpoint.ts";
import { path, seconds } from "./fields.ts";

/*
 * A target's fetch mode (probe.fetch): the probe is found in the mailbox over IMAP or POP3
 * instead of coming back from a `~/.forward` return script. For hosted mailboxes (Microsoft
 * 365, Google Workspace, a provider's Dovecot) where no pipe can be installed.
 */

/** The client-credentials grant (RFC 6749 §4.4) that yields the XOAUTH2/OAUTHBEARER access token. */
export const oauthClientSchema = z.strictObject({
  tokenUrl: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }),
  clientId: z.string().min(1),
  /** A file holding the client secret; on AWS the ARN of a Secrets Manager secret. */
  clientSecretFile: path,
  /** E.g. https://outlook.office365.com/.default; sent as the grant's scope when present. */
  scope: z.string().min(1).optional(),
});

export const fetchSchema = z
  .strictObject({
    /** imap:// (STARTTLS), imaps://, pop3:// (STLS) or pop3s://, as endpoint URLs are written. */
    url: z.string().superRefine((url, context) => {
      try {
        const endpoint = parseEndpointUrl(url);
        if (endpoint.protocol === "smtp") {
          context.addIssue({
            code: "custom",
            message: "must be an imap://, imaps://, pop3:// or pop3s:// URL",
          });
        }
      } catch (error) {
        context.addIssue({ code: "custom", message: (error as Error).message });
      }
    }),
    /** Trust this CA (PEM) for the mailbox server's certificate besides the system's. */
    caFile: path.optional(),
    // Sent in a protocol command (POP3 USER, the XOAUTH2 payload): no line breaks or other controls.
    user: z
      .string()
      .min(1)
      .refine((user) => ![...user].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
        error: "must not contain control characters",
      }),
    /** A file holding the password; on AWS the ARN of a Secrets Manager secret. */
    passwordFile: path.optional(),
    oauth: oauthClientSchema.optional(),
    /**
     * IMAP only: the junk folder to look in besides INBOX. Default: the folder the server marks
     * \Junk (RFC 6154); none when it marks none.
     */
    junkFolder: z.string().min(1).max(200).optional(),
    /** Delete each probe once it is recorded (only validly signed probes of this monitor). */
    deleteAfterFetch: z.boolean().default(true),
    /** Look again this often while waiting: the whole wait without IMAP IDLE, the junk folder with it. */
    pollSeconds: seconds().min(1).max(300).default(15),
    /** How long a cycle waits for its probe; one not seen by then is looked for again next cycle. */
    waitSeconds: seconds().max(900).default(60),
  })
  .superRefine((fetch, context) => {
    if ((fetch.passwordFile === undefined) === (fetch.oauth === undefined)) {
      context.addIssue({
        code: "custom",
        path: [fetch.passwordFile === undefined ? "passwordFile" : "oauth"],
        message: "name exactly one of passwordFile and oauth: how the monitor logs in to the mailbox",
      });
    }
    if (fetch.junkFolder !== undefined && safeProtocol(fetch.url) === "pop3") {
      context.addIssue({
        code: "custom",
        path: ["junkFolder"],
        message: "applies to IMAP only: POP3 sees the inbox alone",
      });
    }
  });

function safeProtocol(url: string): string | undefined {
  try {
    return parseEndpointUrl(url).protocol;
  } catch {
    return undefined;
  }
}

export type FetchConfig = z.infer<typeof fetchSchema>;
