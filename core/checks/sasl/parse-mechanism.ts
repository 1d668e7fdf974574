import type { Protocol } from "../endpoint-kinds.ts";
import { CheckConfigError } from "../errors.ts";
import { type LoginMechanismName, SASL_MECHANISM_NAMES } from "./mechanism-names.ts";

/** The protocol's own login command, the fallback when no SASL mechanism is shared. */
const COMMAND_LOGIN: Record<Protocol, LoginMechanismName | undefined> = {
  smtp: undefined,
  imap: "IMAP-LOGIN",
  pop3: "POP3-USER",
};

/** What may be named for one protocol, strongest first. */
export function loginMechanismsFor(protocol: Protocol): LoginMechanismName[] {
  const command = COMMAND_LOGIN[protocol];
  return command ? [...SASL_MECHANISM_NAMES, command] : [...SASL_MECHANISM_NAMES];
}

/**
 * Reads a mechanism named in `--auth-mech` or `login.mechanism` (any case) for an endpoint of
 * `protocol`; anything it cannot use is a CheckConfigError that lists what it can.
 */
export function parseLoginMechanism(text: string, protocol: Protocol): LoginMechanismName {
  const name = text.trim().toUpperCase();
  const known = loginMechanismsFor(protocol);
  const found = known.find((candidate) => candidate === name);
  if (found) return found;
  const choices = `use one of ${known.join(", ")}`;
  if (name === "DIGEST-MD5") {
    throw new CheckConfigError(`DIGEST-MD5 is obsolete (RFC 6331) and not supported; ${choices}`);
  }
  if (Object.values(COMMAND_LOGIN).includes(name as LoginMechanismName)) {
    throw new CheckConfigError(
      `${name} belongs to ${name.split("-")[0]}, not ${protocol.toUpperCase()}; ${choices}`,
    );
  }
  throw new CheckConfigError(`unknown login mechanism "${text.slice(0, 40)}"; ${choices}`);
}
