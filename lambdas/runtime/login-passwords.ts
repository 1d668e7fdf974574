import { Secret } from "../../core/basics/secret.ts";
import { SECRETS_MANAGER_ARN } from "../../core/config/config-rules.ts";
import type { DeployConfig } from "../../core/config/schema.ts";
import type { SecretCache } from "../aws/secret-cache.ts";

/**
 * On AWS there are no password files: an endpoint's `login.passwordFile` names a Secrets
 * Manager secret by ARN, whose SecretString is the password. The passwords of `targets` (a
 * shard's; every target by default) are read before their checks are planned (planChecks reads
 * passwords synchronously), through the shared cache.
 */
export async function readLoginPasswords(
  config: Pick<DeployConfig, "targets">,
  secrets: SecretCache,
  targets: DeployConfig["targets"] = config.targets,
): Promise<(reference: string) => Secret> {
  const references = new Map<string, string>();
  const wanted = new Set(targets);
  config.targets.forEach((target, t) => {
    if (!wanted.has(target)) return;
    target.endpoints.forEach((endpoint, e) => {
      const reference = endpoint.login?.passwordFile;
      if (reference === undefined) return;
      if (!SECRETS_MANAGER_ARN.test(reference)) {
        throw new Error(
          `targets[${t}].endpoints[${e}].login.passwordFile: on AWS this must be the ARN of a Secrets Manager ` +
            "secret holding the password (arn:aws:secretsmanager:<region>:<account>:secret:<name>), not a file path",
        );
      }
      references.set(reference, `targets[${t}].endpoints[${e}]`);
    });
  });
  const values = new Map<string, Secret>();
  for (const reference of references.keys()) {
    // A trailing line end is an artefact of how the secret was pasted, never part of a password.
    values.set(reference, new Secret((await secrets.get(reference)).replace(/\r?\n$/, "")));
  }
  return (reference) => {
    const value = values.get(reference);
    if (value === undefined) throw new Error(`no password was read for ${reference}`);
    return value;
  };
}
