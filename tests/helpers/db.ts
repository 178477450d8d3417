import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '#lib/store/keys.ts';

/**
 * Direct access to the test table, to look at what the handlers wrote (counts, events) and to set
 * up states whose endpoints land in later issues (a dismissed group, a manager). Points at this
 * run's DynamoDB Local through the env that tests/setup-env.ts set.
 */

export const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
export const tableName = (): string => process.env.TABLE_NAME as string;

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

/**
 * Every item of one partition (strongly consistent), optionally of a sort-key prefix. A query, not a
 * scan: every test file shares one table, which holds tens of thousands of items by the end of a run.
 */
export const partition = async (pk: string, skPrefix?: string) => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: skPrefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: skPrefix === undefined ? { ':pk': pk } : { ':pk': pk, ':p': skPrefix },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
};

export interface OutboxEvent {
  detailType: string;
  detail: Record<string, unknown>;
  source: string;
}

/**
 * The outbox events of `groupId` (every event with `detail.groupId`, whose outbox partition is keyed
 * by it: lib/events `streamKeyOf`), in the order they were written.
 */
export const eventsFor = async (groupId: string): Promise<OutboxEvent[]> => {
  const items = (await partition(keys.outbox(groupId, 0, 0, '').pk)).filter((item) => item.kind === 'event');
  return items
    .sort((a, b) => (a.createdAt as number) - (b.createdAt as number) || (a.seq as number) - (b.seq as number))
    .map((item) => ({
      detailType: item.detailType as string,
      source: item.source as string,
      detail: JSON.parse(item.detail as string) as Record<string, unknown>,
    }));
};

/** Items of a group's partition whose sort key starts with `prefix` (e.g. `MEMBER#`). */
export const partitionItems = (groupId: string, prefix: string) => partition(keys.group(groupId).pk, prefix);
