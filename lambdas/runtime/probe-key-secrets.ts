import type { DeployConfig } from "../../core/config/schema.ts";
import type { Logger } from "../../core/ports/logger.ts";
import type { TargetKeyRings } from "../../core/roundtrip/target-key-rings.ts";
import { type ProbeKeyRing, parseProbeKeyRing } from "../../core/wire/probe-key.ts";
import type { SecretCache } from "../aws/secret-cache.ts";

/**
 * The probe key rings on AWS: each probe target's own secret (targets[].probe.keyFile holds its
 * ARN), else the stack's global probe key secret. Read through the secret cache, so a rotation
 * (the secret's value replaced by a ring with the new key first) is picked up within its TTL.
 * A secret whose new value does not parse is logged, and its last good ring is kept until it
 * parses: a half-pasted value must not lose the returns in flight. Without a last good ring the
 * error is thrown, naming the secret (never its value).
 */
export function probeKeySecrets(
  config: Pick<DeployConfig, "targets">,
  globalSecretId: string,
  secrets: Pick<SecretCache, "get">,
  log: Logger,
): () => Promise<TargetKeyRings> {
  const secretOfTarget = new Map<string, string>();
  for (const target of config.targets) {
    if (target.probe) secretOfTarget.set(target.id, target.probe.keyFile ?? globalSecretId);
  }
  const parsed = new Map<string, { text: string; ring: ProbeKeyRing }>();

  const ringOf = async (secretId: string): Promise<ProbeKeyRing> => {
    const text = await secrets.get(secretId);
    const held = parsed.get(secretId);
    if (held?.text === text) return held.ring;
    try {
      const ring = parseProbeKeyRing(text);
      parsed.set(secretId, { text, ring });
      return ring;
    } catch (cause) {
      // The parser's messages describe the format, never the value.
      const message = `the probe key ring in secret ${secretId}: ${(cause as Error).message}`;
      if (held === undefined) throw new Error(message, { cause });
      log.warn("probe key secret does not parse, its previous keys stay in use", { error: message });
      return held.ring;
    }
  };

  return async () => {
    const ids = [...new Set(secretOfTarget.values())];
    const rings = new Map(await Promise.all(ids.map(async (id) => [id, await ringOf(id)] as const)));
    return new Map([...secretOfTarget].map(([targetId, id]) => [targetId, rings.get(id) as ProbeKeyRing]));
  };
}
