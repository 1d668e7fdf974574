import { z } from "zod";
import { address, domain } from "./fields.ts";

/**
 * Up to this many targets the stack gives each its own alarms and dashboard row; beyond it, the
 * fleet is watched as a whole (docs/aws.md, "Alarms"). A target watched on its own adds up to 8
 * alarms (2 per protocol, 2 for its probe), and CloudFormation allows 500 resources per stack: the
 * maximum keeps 40 x 8 = 320 of them for alarms and leaves the rest to the stack itself.
 */
export const PER_TARGET_ALARMS = { default: 20, max: 40 } as const;
const perTargetAlarmsProblem = `must be a whole number from 0 to ${PER_TARGET_ALARMS.max}: each target watched on its own adds up to 9 alarms to a stack that CloudFormation limits to 500 resources`;

/** Only read by the CDK app (`cdk deploy -c config=...`); local mode ignores it. */
export const awsSchema = z.strictObject({
  account: z
    .string()
    .regex(/^\d{12}$/, { error: "must be a 12-digit AWS account id" })
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "must be a region like eu-west-1" })
    .optional(),
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .default("EmailScout"),
  /** NAT gateways (each with its Elastic IP, the prober's public address): 1 is cheaper, 2 survives an AZ outage. */
  natGateways: z.number().int().min(1).max(2).default(1),
  /** Where alarm notifications go (an SNS e-mail subscription); the topic is an output either way. */
  alarmEmail: address.optional(),
  /** Days a returned message stays in S3, and results in DynamoDB. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  logRetentionDays: z.number().int().min(1).max(3650).default(30),
  /**
   * The prober's memory in MB (Lambda's 128-10240). Lambda gives CPU in proportion to memory (one
   * vCPU at 1,769 MB) at one price per GB-second, so the CPU-bound checks cost about the same at
   * any size and more memory finishes a large run sooner (docs/aws.md, "Prober memory").
   */
  proberMemoryMb: z.number().int().min(128).max(10240).default(512),
  /**
   * The account is in the SES sandbox, where SES sends only to verified identities and checks its
   * IAM authorization against each recipient's identity too: the prober may then send to the
   * identities of the probe addresses (each address, and its domain).
   */
  sesSandbox: z.boolean().default(false),
  /**
   * A custom MAIL FROM for the probes: this label under the inbound domain (say "bounce", for
   * bounce.scout-returns.example.com), with its MX at SES's feedback endpoint, so the envelope
   * sender is the operator's domain and SPF aligns for DMARC. Off: SES's own amazonses.com.
   */
  mailFromSubdomain: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, {
      error: "must be one DNS label like bounce (letters, digits, inner hyphens)",
    })
    .optional(),
  /** Targets watched one by one (alarms and a dashboard row each) up to this count; the fleet as a whole beyond it. */
  perTargetAlarmsUpTo: z
    .number()
    .int({ error: perTargetAlarmsProblem })
    .min(0, { error: perTargetAlarmsProblem })
    .max(PER_TARGET_ALARMS.max, { error: perTargetAlarmsProblem })
    .default(PER_TARGET_ALARMS.default),
  /**
   * An Elastic IP allocated once outside the stack, for the NAT gateway: AWS's port-25 approval
   * and the customers' allowlists name its address, which then outlives the stack (deleted and
   * deployed again). Left out, the stack allocates the address and keeps it on delete.
   */
  natEipAllocationId: z
    .string()
    .regex(/^eipalloc-[0-9a-f]{8,17}$/, {
      error:
        "must be an Elastic IP allocation id like eipalloc-0123456789abcdef0 (aws ec2 describe-addresses)",
    })
    .optional(),
  /**
   * A Route 53 public hosted zone holding the inbound domain (with hostedZoneName, since the stack
   * looks nothing up): the stack then publishes the DKIM CNAMEs and the inbound MX record in it.
   */
  hostedZoneId: z
    .string()
    .regex(/^Z[0-9A-Z]{5,31}$/, {
      error: "must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ (without /hostedzone/)",
    })
    .optional(),
  /** The hosted zone's domain name: the inbound domain or a parent of it. */
  hostedZoneName: domain.optional(),
  /**
   * Activate the stack's SES receipt rule set when the region has none active (never replacing an
   * active one: the deploy stops and says what to do). Default: on with hostedZoneId, else off.
   */
  activateReceiptRuleSet: z.boolean().optional(),
  /**
   * Prober invocations per scheduled run, each checking and probing the targets whose id hashes
   * to it (core/cycle/shards.ts). Left out: one per 1,000 endpoints (lib/config/prober-shards.ts).
   */
  proberShards: z.number().int().min(1).max(100).optional(),
  /**
   * The prober runs on its schedule and the alarms notify. False for a first deploy, until the
   * probe key, the SES identity, the MX record and the receipt rule set are in place: the schedule
   * rules are then created disabled and the alarms' actions off, since until the prober runs its
   * check alarms (no data is failing) and ProberNotRunning would only page that it does not.
   */
  scheduleEnabled: z.boolean().default(true),
});
