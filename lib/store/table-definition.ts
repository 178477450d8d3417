import { TABLE } from './table.ts';

/*
 * Only the CDK stack's tests and the local runtime (which creates the table) read this; in a module of
 * its own, it stays out of the Lambda bundles.
 */

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
