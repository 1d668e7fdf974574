import { keyById, type ProbeKey, type ProbeKeyRing } from "../wire/probe-key.ts";
import {
  ProbeTokenError,
  parseProbeToken,
  type VerifiedToken,
  type VerifyOptions,
  verifyProbeToken,
} from "../wire/probe-token.ts";

/**
 * Each target's probe key ring, by target id: new probes of a target are signed with the first
 * key of its ring, and a token is checked only with a key of the ring of the target it names.
 * Targets without a key file of their own share the global ring (probeKeyFile).
 */
export type TargetKeyRings = ReadonlyMap<string, ProbeKeyRing>;

/**
 * Finds the key a token names in the ring of the target it names. A key id found only in other
 * targets' rings is 'wrong-key': someone holding one target's key (its mail server's
 * email_return) signed a token for another target; in no ring, 'unknown-key'. Throws
 * ProbeTokenError with those reasons, or for a token that does not parse.
 */
export function keyForToken(rings: TargetKeyRings, text: string): ProbeKey {
  const token = parseProbeToken(text);
  const own = rings.get(token.targetId);
  const key = own === undefined ? undefined : keyById(own, token.keyId);
  if (key !== undefined) return key;
  for (const [targetId, ring] of rings) {
    if (targetId !== token.targetId && keyById(ring, token.keyId) !== undefined) {
      throw new ProbeTokenError(
        "wrong-key",
        `key ${token.keyId} is not in the key ring of target ${token.targetId}`,
      );
    }
  }
  throw new ProbeTokenError("unknown-key", `no key ring holds key ${token.keyId}`);
}

/** Checks a token with the key keyForToken finds; returns it with that key. Throws ProbeTokenError. */
export function verifyTokenInRings(
  text: string,
  rings: TargetKeyRings,
  options: VerifyOptions,
): VerifiedToken & { key: ProbeKey } {
  const key = keyForToken(rings, text);
  return { ...verifyProbeToken(text, key.key, options), key };
}
