import { KEY_ID_PATTERN, keyById, type ProbeKey, type ProbeKeyRing } from "../../core/wire/probe-key.ts";

/** A rotation step that cannot be made; the message says why and what to do instead. */
export class KeyRingEditError extends Error {
  override readonly name = "KeyRingEditError";
}

/** The ring with `fresh` in front: it signs new probes, the others still verify. Pure. */
export function addSigningKey(ring: ProbeKeyRing, fresh: ProbeKey): ProbeKeyRing {
  checkKeyId(fresh.id);
  if (keyById(ring, fresh.id) !== undefined) {
    throw new KeyRingEditError(`the ring already holds key ${fresh.id}; choose another --id`);
  }
  return [fresh, ...ring];
}

/**
 * The ring without key `id`. Refuses to remove the last key (a ring signs with its first);
 * `wasSigning` says the next key now signs new probes. Pure.
 */
export function retireKey(ring: ProbeKeyRing, id: string): { ring: ProbeKeyRing; wasSigning: boolean } {
  if (keyById(ring, id) === undefined) {
    throw new KeyRingEditError(
      `the ring holds no key ${id} (it holds ${ring.map((key) => key.id).join(", ")})`,
    );
  }
  const [first, ...rest] = ring.filter((key) => key.id !== id);
  if (first === undefined) {
    throw new KeyRingEditError(
      `key ${id} is the ring's only key; add its successor first (email-scout key add)`,
    );
  }
  return { ring: [first, ...rest], wasSigning: ring[0].id === id };
}

export function checkKeyId(id: string): void {
  if (!KEY_ID_PATTERN.test(id)) {
    throw new KeyRingEditError(`key id ${JSON.stringify(id)} must be 1-32 characters of A-Z a-z 0-9 - _`);
  }
}
