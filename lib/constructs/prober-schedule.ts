import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import type { ProberShardEvent } from "../../lambdas/events/prober-event.ts";

/** EventBridge allows five targets per rule. */
export const TARGETS_PER_RULE = 5;

/**
 * The prober's schedule: one rule when it runs unsharded (EventBridge's own Scheduled Event);
 * else one rule target per shard, each with a constant input naming its shard, five to a rule.
 *
 * Why rule targets per shard rather than one invocation that invokes the others (async
 * lambda:InvokeFunction of itself per shard): the shard count is fixed at synth, since targets
 * change only with a deploy, so a constant input says all a shard needs; EventBridge starts every
 * shard itself and independently, so a failed or slow first invocation cannot hold back the
 * rest; there is no extra invocation per run, no Lambda client in the bundle, no permission for
 * the prober to invoke anything (nor a loop that could invoke itself), and no call from the VPC
 * to the Lambda API through the NAT. The cost is ceil(shards / 5) rules and their permissions,
 * within the 300 rules an event bus allows by default.
 */
export function addProberSchedule(
  scope: Construct,
  props: {
    readonly prober: lambda.IFunction;
    readonly minutes: number;
    readonly shards: number;
    /** False (aws.scheduleEnabled): the rules exist, disabled, until a deploy enables them. */
    readonly enabled: boolean;
  },
): events.Rule[] {
  const { prober, minutes, shards, enabled } = props;
  const schedule = events.Schedule.rate(Duration.minutes(minutes));
  // A failed run is not repeated at once (it would send its probes again): the next tick is the retry.
  const retryAttempts = 0;
  if (shards === 1) {
    return [
      new events.Rule(scope, "ProberSchedule", {
        description: `Runs the Email Scout prober every ${minutes} minute(s)`,
        schedule,
        enabled,
        targets: [new targets.LambdaFunction(prober, { retryAttempts })],
      }),
    ];
  }
  const rules: events.Rule[] = [];
  for (let first = 0; first < shards; first += TARGETS_PER_RULE) {
    const last = Math.min(first + TARGETS_PER_RULE, shards) - 1;
    const shardTargets = [];
    for (let shard = first; shard <= last; shard++) {
      // EventBridge fills in the tick's time and event id, the same for every shard of one run.
      const input: Record<keyof ProberShardEvent, unknown> = {
        shard,
        shards,
        time: events.EventField.time,
        id: events.EventField.eventId,
      };
      shardTargets.push(
        new targets.LambdaFunction(prober, {
          retryAttempts,
          event: events.RuleTargetInput.fromObject(input),
        }),
      );
    }
    // The first rule keeps the unsharded rule's id, so a deploy that adds shards keeps it.
    rules.push(
      new events.Rule(
        scope,
        first === 0 ? "ProberSchedule" : `ProberSchedule${first / TARGETS_PER_RULE + 1}`,
        {
          description: `Runs Email Scout prober shards ${first} to ${last} of ${shards} every ${minutes} minute(s)`,
          schedule,
          enabled,
          targets: shardTargets,
        },
      ),
    );
  }
  return rules;
}
