import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '#lib/store/keys.ts';

/**
 * Direct access to the test table, to look at what the handlers wrote (counts, events) and to set
 * up states whose endpoints land in later issues (a dismissed group, a manager). Points at this
 * run's DynamoDB Local through the env that tests/setup-env.ts set.
 */

export const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
export const tableName = (): string => process.env.TABLE_NAME as string;

/** A user id unique to this test, so tests share one table without seeing each other. */
export const uid = (name: string): string => `${name}-${randomUUID().slice(0, 8)}`;

export const getItem = async (key: { pk: string; sk: string }) =>
  (await db.send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }))).Item;

export const groupItem = (groupId: string) => getItem(keys.group(groupId));
export const profileItem = (userId: string) => getItem(keys.profile(userId));
export const memberItem = (groupId: string, userId: string) => getItem(keys.member(groupId, userId));

/** Sets attributes on an item as a later endpoint would (e.g. `{ status: 'dismissed' }`). */
export const patch = async (key: { pk: string; sk: string }, fields: Record<string, unknown>) => {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(fields).map(([k, v], i) => {
    names[`#a${i}`] = k;
    values[`:v${i}`] = v;
    return `#a${i} = :v${i}`;
  });
  await db.send(
    new UpdateCommand({
      TableName: tableName(),
      Key: key,
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
};

export interface OutboxEvent {
  detailType: string;
  detail: Record<string, unknown>;
  source: string;
}

/** The outbox events that mention `groupId`, oldest first. */
export const eventsFor = async (groupId: string): Promise<OutboxEvent[]> => {
  const found: (OutboxEvent & { createdAt: number; seq: number })[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName(),
        FilterExpression: 'kind = :event AND contains(detail, :g)',
        ExpressionAttributeValues: { ':event': 'event', ':g': `"groupId":"${groupId}"` },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    for (const item of page.Items ?? []) {
      found.push({
        detailType: item.detailType as string,
        source: item.source as string,
        detail: JSON.parse(item.detail as string) as Record<string, unknown>,
        createdAt: item.createdAt as number,
        seq: item.seq as number,
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return found.sort((a, b) => a.createdAt - b.createdAt || a.seq - b.seq).map(({ createdAt: _c, seq: _s, ...e }) => e);
};

/** Items of a group's partition whose sort key starts with `prefix` (e.g. `MEMBER#`). */
export const partitionItems = async (groupId: string, prefix: string) => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName(),
        FilterExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': keys.group(groupId).pk, ':p': prefix },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
};
