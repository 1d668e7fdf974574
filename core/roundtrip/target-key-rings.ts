import { keyById, type ProbeKey, type ProbeKeyRing } from "../wire/probe-key.ts";

/**
 * Each target's probe key ring, by target id: new probes of a target are signed with the first
 * key of its ring, and a token is checked only with a key of the ring of the target it names.
 * Targets without a key file of their own share the global ring (probeKeyFile).
 */
export type TargetKeyRings = ReadonlyMap<string, ProbeKeyRing>;

/** The key a token must be checked with, or why there is none. */
export type TokenKeyLookup =
  | { readonly kind: "key"; readonly key: ProbeKey }
  | { readonly kind: "refused"; readonly reason: "wrong-key" | "unknown-key"; readonly detail: string };

/**
 * Finds the key a token names in the ring of the target it names. A key id found only in other
 * targets' rings is 'wrong-key': someone holding one target's key (its mail server's
 * email_return) signed a token for another target.
 */
export function keyForToken(
  rings: TargetKeyRings,
  token: { readonly targetId: string; readonly keyId: string },
): TokenKeyLookup {
  const own = rings.get(token.targetId);
  const key = own === undefined ? undefined : keyById(own, token.keyId);
  if (key !== undefined) return { kind: "key", key };
  for (const [targetId, ring] of rings) {
    if (targetId !== token.targetId && keyById(ring, token.keyId) !== undefined) {
      return {
        kind: "refused",
        reason: "wrong-key",
        detail: `key ${token.keyId} is not in the key ring of target ${token.targetId}`,
      };
    }
  }
  return { kind: "refused", reason: "unknown-key", detail: `no key ring holds key ${token.keyId}` };
}
