import type { Conversation } from "../conversation.ts";
import { cramMd5Mechanism } from "./cram-md5.ts";
import { loginMechanism } from "./login.ts";
import type { SaslMechanism } from "./mechanism.ts";
import {
  type CommandLoginName,
  isSaslMechanismName,
  type LoginMechanismName,
  SASL_MECHANISM_NAMES,
  type SaslMechanismName,
} from "./mechanism-names.ts";
import { plainMechanism } from "./plain.ts";
import { scramMechanism } from "./scram.ts";

export const SASL_MECHANISMS: Record<SaslMechanismName, SaslMechanism> = {
  "SCRAM-SHA-256": scramMechanism("SCRAM-SHA-256"),
  "SCRAM-SHA-1": scramMechanism("SCRAM-SHA-1"),
  "CRAM-MD5": cramMd5Mechanism,
  PLAIN: plainMechanism,
  LOGIN: loginMechanism,
};

export interface LoginOffer {
  /** SASL mechanisms the server announces, upper case. */
  readonly sasl: readonly string[];
  /** The protocol's own login command, when the server allows it here. */
  readonly command?: CommandLoginName;
  /** The mechanism the configuration insists on. */
  readonly forced?: LoginMechanismName;
  /** Why the server offers nothing, when the protocol knows (e.g. "AUTH is often offered only after STARTTLS"). */
  readonly hint?: string;
}

/**
 * Picks how to log in: the named mechanism if there is one (and the server offers it), else
 * the strongest SASL mechanism both sides speak (SASL_MECHANISM_NAMES order), else the
 * protocol's own login command. Records the choice on the conversation for the result.
 * Throws auth-unavailable, naming what the server offers, when nothing fits.
 */
export function chooseLoginMechanism(c: Conversation, offer: LoginOffer): LoginMechanismName {
  const offered = new Set(offer.sasl.map((name) => name.toUpperCase()));
  const usable = (name: LoginMechanismName): boolean =>
    name === offer.command || (isSaslMechanismName(name) && offered.has(name));
  const chosen = offer.forced
    ? usable(offer.forced)
      ? offer.forced
      : undefined
    : (SASL_MECHANISM_NAMES.find(usable) ?? offer.command);
  if (chosen === undefined) {
    const asked = offer.forced ? `${offer.forced} was asked for, but ` : "no usable login: ";
    throw c.fail("auth-unavailable", `${asked}${describeOffer(offer)}`);
  }
  c.authMechanism = chosen;
  return chosen;
}

function describeOffer(offer: LoginOffer): string {
  const sasl = offer.sasl.length > 0 ? `SASL ${offer.sasl.join(" ")}` : "no SASL mechanism";
  const command = offer.command ? ` and the ${offer.command} command` : "";
  const obsolete = offer.sasl.some((name) => name.toUpperCase() === "DIGEST-MD5")
    ? "; DIGEST-MD5 is obsolete (RFC 6331) and not supported"
    : "";
  const hint = offer.hint ? ` (${offer.hint})` : "";
  return `the server offers ${sasl}${command}${hint}; this checker speaks ${SASL_MECHANISM_NAMES.join(" ")}${obsolete}`;
}
