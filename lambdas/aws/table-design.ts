/**
 * The key design of the two DynamoDB tables the AWS adapters are written against, in
 * CloudFormation / CreateTable terms. The CDK stack must produce exactly this (its template
 * tests compare against it) and the local stand-ins create their tables from it, so the
 * adapters, the stand-ins and the deployed stack cannot drift apart.
 */
export const PROBES_TABLE_DESIGN = {
  AttributeDefinitions: [
    { AttributeName: "probeId", AttributeType: "S" },
    { AttributeName: "targetId", AttributeType: "S" },
    { AttributeName: "sentAtMs", AttributeType: "N" },
    { AttributeName: "openState", AttributeType: "S" },
    { AttributeName: "deadlineMs", AttributeType: "N" },
    { AttributeName: "unannounced", AttributeType: "S" },
    { AttributeName: "updatedAtMs", AttributeType: "N" },
  ],
  KeySchema: [{ AttributeName: "probeId", KeyType: "HASH" }],
  GlobalSecondaryIndexes: [
    {
      // A target's probes by send time (status, dashboards).
      IndexName: "byTarget",
      KeySchema: [
        { AttributeName: "targetId", KeyType: "HASH" },
        { AttributeName: "sentAtMs", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    },
    {
      // Sparse: openState is set only while a probe is "sent", so overdue probes are one Query.
      IndexName: "openByDeadline",
      KeySchema: [
        { AttributeName: "openState", KeyType: "HASH" },
        { AttributeName: "deadlineMs", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    },
    {
      // Sparse: unannounced is set from an outcome's write until its event is queued. ALL, so the
      // leftovers to announce come whole from one Query (the event needs every outcome field).
      // KEYS_ONLY would save about 2 write units an outcome (the copy in and out) but need a
      // second, batched read; storage stays small, as an item is in it only until announced.
      IndexName: "unannouncedByTime",
      KeySchema: [
        { AttributeName: "unannounced", KeyType: "HASH" },
        { AttributeName: "updatedAtMs", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    },
  ],
} as const;

export const RESULTS_TABLE_DESIGN = {
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
  ],
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
} as const;

/**
 * The webhook holds table (the notifier's alone): per endpoint, its hold item (sk "hold") while it
 * fails, and the events parked behind it (sk "parked#<queued time>#<message id>"), so one Query
 * reads them oldest first. Items never expire by TTL: a parked event leaves only delivered, moved
 * to the dead-letter queue, or put back on the events queue.
 */
export const WEBHOOK_HOLDS_TABLE_DESIGN = {
  AttributeDefinitions: [
    { AttributeName: "endpointId", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
  ],
  KeySchema: [
    { AttributeName: "endpointId", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
} as const;

/** The probe and results tables expire items by this attribute (epoch seconds). */
export const TTL_ATTRIBUTE = "expiresAt";
