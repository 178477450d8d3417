import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import '../zod.ts';
import { CLEAR_RUN_RETENTION_S, type ClearingStore, type ClearRun, type DueClear } from '../domain/clearing.ts';
import { dueOnSchedule, getParsed, queryAll } from './batch.ts';
import { CommitCancelled, type Commit } from './commit.ts';
import { writeIf } from './conditional.ts';
import { keys } from './keys.ts';

/**
 * Regular clearing over the single table.
 *
 * - The schedule is the sparse GSI2 entry on the group item (`CLEAR#<shard>` / `<next clear ms>#g`,
 *   present only while clearing is on): due groups are one query per shard, never a scan.
 * - A claim is one transaction: the group's entry moves to a lease and `clearRunId` to the new run,
 *   conditioned on the entry, clear status and previous run read, and the run item
 *   (`GROUP#g / CLEARRUN#<run>`) is created. Of two passes, one wins.
 * - The run item counts the chunks: `done` is a number set, each chunk added once (a condition), so
 *   a redelivered chunk is recognised; the finish is a transaction guarded by the run's state and by
 *   the run still being the group's, and it carries `GroupMessagesCleared` (the outbox).
 */

const int = z.number().check(z.int());

const shardItem = z.object({
  gsi2sk: z.string(),
  clearStatus: z._default(int, 0),
  clearRunId: z.optional(z.string()),
});

const runItem = z.object({
  groupId: z.string(),
  runId: z.string(),
  clearStatus: z.union([z.literal(3), z.literal(7), z.literal(36)]),
  cutoff: int,
  startedAt: int,
  status: z.enum(['planning', 'running', 'done', 'cancelled']),
  chunks: z.optional(int),
  members: z.optional(int),
  done: z.pipe(
    z.optional(z.instanceof(Set)),
    z.transform((set) => [...(set ?? [])].map(Number).sort((a, b) => a - b)),
  ),
  calls: z._default(int, 0),
  finishedAt: z.optional(int),
  reason: z.optional(z.string()),
});

const groupItem = z.object({
  status: z.string(),
  clearStatus: z._default(int, 0),
  clearRunId: z.optional(z.string()),
  creatorId: z.string(),
});

/** Sort keys of members: `MEMBER#<id>`; `MEMBER$` sorts right after every one of them. */
const MEMBER_PREFIX = keys.membersOf('x').skPrefix;
const AFTER_MEMBERS = `${MEMBER_PREFIX.slice(0, -1)}$`;

const parseRun = (item: Record<string, unknown>): ClearRun => z.parse(runItem, item);

const isConditionFailure = (error: unknown): boolean => error instanceof ConditionalCheckFailedException;

export const createClearingStore = (client: DynamoDBDocumentClient, tableName: string, commit: Commit): ClearingStore => {
  const runKey = keys.clearRun;

  const store: ClearingStore = {
    async due(now) {
      const { items, errors } = await dueOnSchedule(client, tableName, 'clear', now, 'gsi2sk, clearStatus, clearRunId');
      // A shard that could not be read fails the pass (the scheduler retries it).
      if (errors.length > 0) throw errors[0];
      return items.map((raw): DueClear => {
        const item = z.parse(shardItem, raw);
        return {
          groupId: keys.groupOfSchedule(item.gsi2sk),
          entry: item.gsi2sk,
          dueAt: keys.dueAtOfSchedule(item.gsi2sk),
          clearStatus: item.clearStatus,
          ...(item.clearRunId === undefined ? {} : { previousRunId: item.clearRunId }),
        };
      });
    },

    async claim(due, { runId, now, leaseMs, cutoff }) {
      const lease = keys.clearSchedule(due.groupId, now + leaseMs);
      try {
        await commit({
          writes: [
            {
              Update: {
                TableName: tableName,
                Key: keys.group(due.groupId),
                UpdateExpression: 'SET gsi2sk = :lease, clearRunId = :run, clearTimeAt = :now',
                ConditionExpression: [
                  'gsi2pk = :shard AND gsi2sk = :entry AND #status = :active AND clearStatus = :clearStatus',
                  due.previousRunId === undefined ? 'attribute_not_exists(clearRunId)' : 'clearRunId = :previous',
                ].join(' AND '),
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':lease': lease.gsi2sk,
                  ':run': runId,
                  ':now': now,
                  ':shard': lease.gsi2pk,
                  ':entry': due.entry,
                  ':active': 'active',
                  ':clearStatus': due.clearStatus,
                  ...(due.previousRunId === undefined ? {} : { ':previous': due.previousRunId }),
                },
              },
            },
            {
              Put: {
                TableName: tableName,
                Item: {
                  ...runKey(due.groupId, runId),
                  kind: 'clearRun',
                  groupId: due.groupId,
                  runId,
                  clearStatus: due.clearStatus,
                  cutoff,
                  startedAt: now,
                  status: 'planning',
                  calls: 0,
                  expiresAt: Math.floor(now / 1000) + CLEAR_RUN_RETENTION_S,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        });
        return true;
      } catch (error) {
        if (error instanceof CommitCancelled) return false;
        throw error;
      }
    },

    async cancel(groupId, runId, reason, now) {
      // Nothing when it already finished or was cancelled (or was never recorded: a pass died in between).
      await writeIf(() =>
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: runKey(groupId, runId),
            UpdateExpression: 'SET #status = :cancelled, reason = :reason, finishedAt = :now',
            ConditionExpression: '#status IN (:planning, :running)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':cancelled': 'cancelled', ':reason': reason, ':now': now, ':planning': 'planning', ':running': 'running' },
          }),
        ),
      );
    },

    async memberIds(groupId, range) {
      const { pk } = keys.membersOf(groupId);
      const from = `${MEMBER_PREFIX}${range?.from ?? ''}`;
      const to = range?.to === undefined ? AFTER_MEMBERS : `${MEMBER_PREFIX}${range.to}`;
      const items = await queryAll(client, {
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': pk, ':from': from, ':to': to },
        ProjectionExpression: 'sk',
        ConsistentRead: true,
      });
      // BETWEEN is inclusive; a chunk ends before the next one's first member.
      return items.map((item) => String(item.sk)).filter((sk) => sk !== to).map((sk) => sk.slice(MEMBER_PREFIX.length));
    },

    async plan(groupId, runId, { chunks, members }) {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: runKey(groupId, runId),
          UpdateExpression: 'SET chunks = :chunks, members = :members',
          ConditionExpression: '#status = :planning',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':chunks': chunks, ':members': members, ':planning': 'planning' },
        }),
      );
    },

    async started(groupId, runId, { nextClearAt, clearStatus }) {
      const next = keys.clearSchedule(groupId, nextClearAt);
      // Nothing when switched off, changed or dismissed meanwhile: the schedule is someone else's now.
      await writeIf(() =>
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.group(groupId),
            UpdateExpression: 'SET gsi2sk = :next',
            ConditionExpression: 'gsi2pk = :shard AND clearRunId = :run AND clearStatus = :clearStatus AND #status = :active',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':next': next.gsi2sk, ':shard': next.gsi2pk, ':run': runId, ':clearStatus': clearStatus, ':active': 'active' },
          }),
        ),
      );
      // Nothing when its chunks already finished (or cancelled) it.
      await writeIf(() =>
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: runKey(groupId, runId),
            UpdateExpression: 'SET #status = :running',
            ConditionExpression: '#status = :planning',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':running': 'running', ':planning': 'planning' },
          }),
        ),
      );
    },

    run: (groupId, runId) => getParsed(client, tableName, runKey(groupId, runId), parseRun),

    async group(groupId) {
      const out = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: keys.group(groupId),
          ConsistentRead: true,
          ProjectionExpression: '#status, clearStatus, clearRunId, creatorId',
          ExpressionAttributeNames: { '#status': 'status' },
        }),
      );
      return out.Item ? z.parse(groupItem, out.Item) : null;
    },

    async chunkDone(groupId, runId, chunk, calls) {
      try {
        const out = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: runKey(groupId, runId),
            UpdateExpression: 'ADD done :chunk, calls :calls',
            ConditionExpression: '#status IN (:planning, :running) AND NOT contains(done, :index)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':chunk': new Set([chunk]),
              ':index': chunk,
              ':calls': calls,
              ':planning': 'planning',
              ':running': 'running',
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return out.Attributes ? parseRun(out.Attributes) : null;
      } catch (error) {
        if (isConditionFailure(error)) return null;
        throw error;
      }
    },

    async finish({ run, now, event }) {
      try {
        await commit(
          {
            writes: [
              {
                Update: {
                  TableName: tableName,
                  Key: runKey(run.groupId, run.runId),
                  UpdateExpression: 'SET #status = :done, finishedAt = :now',
                  ConditionExpression: '#status IN (:planning, :running) AND size(done) = :chunks',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':done': 'done', ':now': now, ':planning': 'planning', ':running': 'running', ':chunks': run.chunks },
                },
              },
              {
                Update: {
                  TableName: tableName,
                  Key: keys.group(run.groupId),
                  UpdateExpression: 'SET clearedAt = :now, clearedBefore = :cutoff',
                  ConditionExpression: 'clearRunId = :run AND #status = :active',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':now': now, ':cutoff': run.cutoff, ':run': run.runId, ':active': 'active' },
                },
              },
            ],
            events: [event],
          },
          now,
        );
        return true;
      } catch (error) {
        if (!(error instanceof CommitCancelled)) throw error;
        // The group moved on (dismissed, or a newer run): this run ends without an announcement.
        if (error.firstFailed() === 1) await store.cancel(run.groupId, run.runId, 'no longer the group\'s run at its finish', now);
        return false;
      }
    },
  };
  return store;
};
