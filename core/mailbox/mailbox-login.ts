import type { Secret } from "../basics/secret.ts";

/** How the monitor logs in to a probe mailbox: a password, or an OAuth access token (XOAUTH2/OAUTHBEARER). */
export type MailboxLogin =
  | { readonly kind: "password"; readonly user: string; readonly password: Secret }
  | { readonly kind: "oauth"; readonly user: string; readonly accessToken: () => Promise<Secret> };
