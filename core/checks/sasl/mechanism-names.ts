/**
 * The SASL mechanisms this checker speaks (RFC 4422), strongest first: the order in which
 * one is chosen from what the server offers.
 * - SCRAM-SHA-256 (RFC 7677), SCRAM-SHA-1 (RFC 5802): the password never crosses the wire and
 *   the server proves it knows it too.
 * - CRAM-MD5 (RFC 2195): the password never crosses the wire, but the server proves nothing.
 * - PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login): the password itself, in base64.
 * DIGEST-MD5 is obsolete (RFC 6331) and not spoken.
 */
export const SASL_MECHANISM_NAMES = ["SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"] as const;
export type SaslMechanismName = (typeof SASL_MECHANISM_NAMES)[number];

/**
 * Logins that are a protocol's own command rather than SASL, tried only when no SASL
 * mechanism is shared: IMAP's LOGIN command (RFC 3501 §6.2.3) and POP3's USER/PASS (RFC 1939 §7).
 */
export const COMMAND_LOGIN_NAMES = ["IMAP-LOGIN", "POP3-USER"] as const;
export type CommandLoginName = (typeof COMMAND_LOGIN_NAMES)[number];

/** What `--auth-mech` and `login.mechanism` may name, and what a result reports as used. */
export type LoginMechanismName = SaslMechanismName | CommandLoginName;
export function isSaslMechanismName(name: string): name is SaslMechanismName {
  return (SASL_MECHANISM_NAMES as readonly string[]).includes(name);
}

/**
 * Said with a rejected challenge-response login: a server that keeps passwords only as hashes
 * it cannot use for them (PAM, crypt; GNU Mailutils offers SCRAM over PAM all the same)
 * refuses a right password too, so the fix may be to pin a mechanism rather than the password.
 */
export function rejectedMechanismHint(mechanism: string | undefined): string {
  if (mechanism === undefined || !/^(SCRAM-|CRAM-MD5$)/.test(mechanism)) return "";
  return `; if the password is right, the server may offer ${mechanism} without the stored secrets it needs (passwords kept as PAM/crypt hashes): pin another mechanism with login.mechanism or --auth-mech`;
}
