import type { DeployConfig } from "../../core/config/schema.ts";

/**
 * Endpoints one prober shard takes when aws.proberShards does not say. From bench/lambdas: a
 * check costs the prober 5 to 8 ms of CPU (the first run, which writes every status, is the
 * dearest), so at the default 512 MB (0.29 vCPU) 1,000 endpoints need 17 to 28 s of CPU, at most
 * half of the shortest schedule (1 minute) as the next run starts on time regardless. The
 * 10,000-endpoint row of the bench (10 shards, 2,000 probed targets) measures each shard.
 */
export const ENDPOINTS_PER_SHARD = 1000;

/** How many prober invocations each scheduled run makes: aws.proberShards, else one per ENDPOINTS_PER_SHARD. */
export function proberShardCount(config: Pick<DeployConfig, "targets" | "aws">): number {
  const configured = config.aws?.proberShards;
  if (configured !== undefined) return configured;
  const endpoints = config.targets.reduce((sum, target) => sum + target.endpoints.length, 0);
  return Math.max(1, Math.ceil(endpoints / ENDPOINTS_PER_SHARD));
}
