/**
 * The single table, described once. The CDK stack, the local runtime (which creates the table on
 * DynamoDB Local) and the repositories all derive from this description.
 */

export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Inverted index: "groups of a user" (`USER#u` / `GROUP#g`) and notice inboxes. */
  gsi1: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /**
   * Sparse index of scheduled work on group items: regular clearing (`CLEAR#shard` / next clear
   * ms) while it is on, the janitor's repairs (`REPAIR#shard` / due ms) while a chunked creation or
   * a dismissal's cleanup is unfinished.
   */
  gsi2: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** TTL attribute (epoch seconds). DynamoDB deletes lazily: readers filter on it too. */
  ttlAttribute: 'expiresAt',
} as const;

/** Attribute definitions and key schema in the shape both the SDK and CloudFormation accept. */
export const tableDefinition = {
  AttributeDefinitions: [
    { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
    { AttributeName: TABLE.sortKey, AttributeType: 'S' },
    { AttributeName: TABLE.gsi1.partitionKey, AttributeType: 'S' },
    { AttributeName: TABLE.gsi1.sortKey, AttributeType: 'S' },
    { AttributeName: TABLE.gsi2.partitionKey, AttributeType: 'S' },
    { AttributeName: TABLE.gsi2.sortKey, AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
    { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [TABLE.gsi1, TABLE.gsi2].map(
    (index) =>
      ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }) as const,
  ),
  BillingMode: 'PAY_PER_REQUEST',
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
} as const;
