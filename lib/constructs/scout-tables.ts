import { RemovalPolicy } from "aws-cdk-lib";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";

/** The attribute both tables expire items by (epoch seconds), set by the store adapter. */
export const EXPIRES_AT_ATTRIBUTE = "expiresAt";

/**
 * The probe and result tables, and the notifier's webhook holds table. On demand (a few writes a
 * minute), point-in-time recovery on, encrypted with the AWS-managed key; kept when the stack is
 * deleted. Probes and results expire by TTL; held endpoints and parked events never do.
 */
export class ScoutTables extends Construct {
  /**
   * probeId -> probe record; byTarget lists a target's probes, openByDeadline finds overdue ones,
   * unannouncedByTime the outcomes whose event is not queued yet.
   */
  readonly probes: dynamodb.TableV2;
  /** pk/sk: check and round-trip results, statuses (the adapter owns the key layout). */
  readonly results: dynamodb.TableV2;
  /**
   * endpointId/sk: a failing webhook endpoint's hold and the events parked behind it
   * (WEBHOOK_HOLDS_TABLE_DESIGN); the notifier's alone.
   */
  readonly webhookHolds: dynamodb.TableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.probes = new dynamodb.TableV2(this, "ProbesTable", {
      ...commonTableProps(),
      partitionKey: { name: "probeId", type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [
        {
          indexName: "byTarget",
          partitionKey: { name: "targetId", type: dynamodb.AttributeType.STRING },
          sortKey: { name: "sentAtMs", type: dynamodb.AttributeType.NUMBER },
          projectionType: dynamodb.ProjectionType.ALL,
        },
        {
          // Sparse: only probes still waiting for their return carry openState.
          indexName: "openByDeadline",
          partitionKey: { name: "openState", type: dynamodb.AttributeType.STRING },
          sortKey: { name: "deadlineMs", type: dynamodb.AttributeType.NUMBER },
          projectionType: dynamodb.ProjectionType.ALL,
        },
        {
          // Sparse: only outcomes not yet announced carry unannounced. ALL: they are read whole.
          indexName: "unannouncedByTime",
          partitionKey: { name: "unannounced", type: dynamodb.AttributeType.STRING },
          sortKey: { name: "updatedAtMs", type: dynamodb.AttributeType.NUMBER },
          projectionType: dynamodb.ProjectionType.ALL,
        },
      ],
    });
    this.results = new dynamodb.TableV2(this, "ResultsTable", {
      ...commonTableProps(),
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
    });
    const { timeToLiveAttribute: _none, ...untimed } = commonTableProps();
    this.webhookHolds = new dynamodb.TableV2(this, "WebhookHoldsTable", {
      ...untimed,
      partitionKey: { name: "endpointId", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
    });
  }

  /** The ARNs a function's DynamoDB statements name: both tables and all their indexes. */
  get arnsWithIndexes(): string[] {
    return [this.probes, this.results].flatMap((table) => [table.tableArn, `${table.tableArn}/index/*`]);
  }
}

function commonTableProps() {
  return {
    billing: dynamodb.Billing.onDemand(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: EXPIRES_AT_ATTRIBUTE,
    encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
    removalPolicy: RemovalPolicy.RETAIN,
  } satisfies Partial<dynamodb.TablePropsV2>;
}
