import { BatchGetCommand, GetCommand, QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { keys, type Key } from './keys.ts';
import { TABLE } from './table.ts';

/** Read helpers shared by the repositories: single gets, paginated queries and chunked batch gets. */

const BATCH_GET_LIMIT = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The item at `key` (strongly consistent), parsed by `parse`; null when there is none. */
export const getParsed = async <T>(
  client: DynamoDBDocumentClient,
  tableName: string,
  key: Key,
  parse: (item: Record<string, unknown>) => T,
): Promise<T | null> => {
  const out = await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  return out.Item ? parse(out.Item) : null;
};

/** Every item of a query, following `LastEvaluatedKey`. */
export const queryAll = async (
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
};

/**
 * Every item of one partition whose sort key starts with `skPrefix` (a `keys.*Of` pair), strongly
 * consistent; `projection` limits the attributes read.
 */
export const queryPrefix = (
  client: DynamoDBDocumentClient,
  tableName: string,
  { pk, skPrefix }: { pk: string; skPrefix: string },
  projection?: string,
): Promise<Record<string, unknown>[]> =>
  queryAll(client, {
    TableName: tableName,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
    ...(projection ? { ProjectionExpression: projection } : {}),
    ConsistentRead: true,
  });

/**
 * Gets items by key, 100 per request in parallel, retrying unprocessed keys with backoff. Returns
 * the items found, in no particular order.
 */
export const batchGet = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  keyList: readonly Key[],
  consistent = false,
): Promise<Record<string, unknown>[]> => {
  const unique = [...new Map(keyList.map((k) => [`${k.pk}\u0000${k.sk}`, k])).values()];
  const chunks: Key[][] = [];
  for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
  const results = await Promise.all(
    chunks.map(async (chunk) => {
      const found: Record<string, unknown>[] = [];
      let pending: Record<string, unknown>[] = chunk.map((k) => ({ pk: k.pk, sk: k.sk }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
        const out = await client.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: consistent } } }),
        );
        found.push(...(out.Responses?.[tableName] ?? []));
        pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
        if (attempt > 8 && pending.length > 0) throw new Error('BatchGet kept returning unprocessed keys');
      }
      return found;
    }),
  );
  return results.flat();
};

/**
 * The GSI2 entries of one schedule (`clear` or `repair`) due by `now`: one query per shard, all in
 * parallel, each paginated. A shard whose query failed is in `errors`; the others' items are kept.
 * GSI2 is eventually consistent: callers re-check what they act on.
 */
export const dueOnSchedule = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  schedule: 'clear' | 'repair',
  now: number,
  projection: string,
): Promise<{ items: Record<string, unknown>[]; errors: unknown[] }> => {
  const before = keys.scheduleDueBefore(now);
  const shards = await Promise.allSettled(
    keys.scheduleShards(schedule).map((shard) =>
      queryAll(client, {
        TableName: tableName,
        IndexName: TABLE.gsi2.name,
        KeyConditionExpression: 'gsi2pk = :shard AND gsi2sk < :before',
        ExpressionAttributeValues: { ':shard': shard, ':before': before },
        ProjectionExpression: projection,
      }),
    ),
  );
  return {
    items: shards.flatMap((s) => (s.status === 'fulfilled' ? s.value : [])),
    errors: shards.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : [])),
  };
};
