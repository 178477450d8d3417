import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The baseline of the bundle and cold-start targets (issue 10, "Proof"): a handler that only reads
 * DynamoDB through the document client. tests/bench/bundles.ts and tests/infra/build.test.ts bundle
 * it with infra/build.ts's own options; every function must stay within 1.2x its size and 1.15x
 * its cold import.
 */
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
export const handler = async (e: { id: string }) => (await doc.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: { pk: e.id } }))).Item;
