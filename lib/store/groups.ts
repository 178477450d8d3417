import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CopyConflict } from '../domain/copy.ts';
import { CREATION_STALE_MS } from '../domain/janitor.ts';
import { InvalidInput, NotFound, Rejected, BusinessCodes } from '../domain/errors.ts';
import type { Member } from '../domain/model.ts';
import type { GroupRepository } from '../domain/ports.ts';
import { logger } from '../log.ts';
import { CommitCancelled, MAX_TRANSACTION_ITEMS, type Commit, type Write } from './commit.ts';
import { createGroupReads } from './group-reads.ts';
import { groupToItem, inboxToItem, memberToItem, noticeToItem } from './items.ts';
import { keys } from './keys.ts';

/**
 * Groups: the group item, and creation with its members. Creation adds 1 to each member's group
 * count under the per-user limit in the same transaction that writes the member, so the counts and
 * limits are exact under any concurrency.
 */

/** Chunks of a large creation written at once (each a transaction of up to 100 items). */
const PARALLEL_CHUNKS = 4;

class ChunkFailed extends Error {
  constructor(
    readonly chunk: Step[],
    readonly reason: unknown,
  ) {
    super('a chunk of a group creation failed');
  }
}

/** A condition-bearing write of the visible-making transaction, with the error its failure means. */
interface Guard {
  write: Write;
  fails: (old: Record<string, unknown> | undefined) => Error;
}

/** One planned write with what it means, so a failed condition can be explained. */
interface Step {
  write: Write;
  /** Set on group-count updates: whose limit the condition guards. */
  countOf?: string;
  /** How to undo it if a later chunk fails. */
  undo: Write;
}

/** Steps packed in order into chunks of at most `room` writes, never splitting an entry. */
const packed = (entries: Step[][], room: number): Step[][] => {
  const chunks: Step[][] = [];
  for (const entry of entries) {
    const last = chunks.at(-1);
    if (last && last.length + entry.length <= room) last.push(...entry);
    else chunks.push([...entry]);
  }
  return chunks;
};

export const createGroupRepository = (client: DynamoDBDocumentClient, tableName: string, commit: Commit): GroupRepository => {
  const addGroupCount = (userId: string, maxUserGroups: number): Step => ({
    countOf: userId,
    write: {
      Update: {
        TableName: tableName,
        Key: keys.profile(userId),
        UpdateExpression: 'SET userId = :u, kind = :k ADD groupCount :one',
        ConditionExpression: 'attribute_not_exists(groupCount) OR groupCount < :max',
        ExpressionAttributeValues: { ':u': userId, ':k': 'profile', ':one': 1, ':max': maxUserGroups },
      },
    },
    undo: {
      Update: {
        TableName: tableName,
        Key: keys.profile(userId),
        UpdateExpression: 'ADD groupCount :minus',
        ExpressionAttributeValues: { ':minus': -1 },
      },
    },
  });

  const put = (item: Record<string, unknown> & { pk: string; sk: string }): Step => ({
    write: { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
    undo: { Delete: { TableName: tableName, Key: { pk: item.pk, sk: item.sk } } },
  });

  /**
   * A member item. Its undo is conditional on the item still being there: it commits with the
   * member's group-count decrement, so if a janitor undoing the same (abandoned) creation released
   * the member first, the compensation fails instead of counting the member twice (and the group
   * stays for the janitor to finish).
   */
  const putMember = (member: Member): Step => {
    const item = memberToItem(member);
    return {
      write: { Put: { TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } },
      undo: { Delete: { TableName: tableName, Key: { pk: item.pk, sk: item.sk }, ConditionExpression: 'attribute_exists(pk)' } },
    };
  };

  /** Explains a cancelled creation: a user at their group limit, or a bug. */
  const creationError = (error: unknown, steps: Step[], ownerId: string, maxUserGroups: number): unknown => {
    if (!(error instanceof CommitCancelled)) return error;
    const failed = steps[error.firstFailed()];
    if (failed?.countOf === undefined) return error;
    return failed.countOf === ownerId
      ? new Rejected(
          BusinessCodes.userGroupLimit,
          `Current user's group count is out of max user group count limit (${maxUserGroups}).`,
        )
      : new Rejected(
          BusinessCodes.userGroupLimit,
          `memberIds: user ${failed.countOf}'s group count is out of max user group count limit (${maxUserGroups}).`,
        );
  };

  /**
   * copy_group: the source gets `copiedTime = now` only while it is active with the `copiedTime`
   * read (so of two concurrent copies exactly one commits), and the caller is still its member.
   */
  const copyGuards = (copyOf: { sourceId: string; copiedTime: number; memberId: string } | undefined, now: number): Guard[] =>
    copyOf === undefined
      ? []
      : [
          {
            write: {
              Update: {
                TableName: tableName,
                Key: keys.group(copyOf.sourceId),
                UpdateExpression: 'SET copiedTime = :now',
                ConditionExpression: `attribute_exists(pk) AND #status = :active AND (copiedTime = :read${
                  copyOf.copiedTime === 0 ? ' OR attribute_not_exists(copiedTime)' : ''
                })`,
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':now': now, ':active': 'active', ':read': copyOf.copiedTime },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            fails: (old) => new CopyConflict(old?.status === 'active' ? 'copied' : 'gone'),
          },
          {
            write: {
              ConditionCheck: {
                TableName: tableName,
                Key: keys.member(copyOf.sourceId, copyOf.memberId),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            fails: () => new CopyConflict('member'),
          },
        ];

  /** The error a failed guard (written from index `offset` of a cancelled transaction) means, if one failed. */
  const guardError = (error: unknown, offset: number, guards: Guard[]): Error | undefined => {
    if (!(error instanceof CommitCancelled)) return undefined;
    const index = error.firstFailed();
    return guards[index - offset]?.fails(error.reasons[index]?.item);
  };

  /** Undoes committed chunks, newest first, so no half-created group keeps members or counts. */
  const compensate = async (committed: Step[][], groupId: string) => {
    for (const chunk of [...committed].reverse()) {
      try {
        await commit({ writes: chunk.map((s) => s.undo) });
      } catch (error) {
        logger.error('group creation compensation failed; the group stays invisible until the janitor undoes it', { groupId, error });
        throw error;
      }
    }
  };

  return {
    ...createGroupReads(client, tableName),

    async create({ group, members, notices, events }, { maxUserGroups }, copyOf) {
      const memberSteps = members.map((m) => [putMember(m), addGroupCount(m.userId, maxUserGroups)]);
      const noticeSteps = notices.map((n) => [put(noticeToItem(n)), ...n.viewerIds.map((v) => put(inboxToItem(v, n)))]);
      const guards = copyGuards(copyOf, group.createdAt);
      const size = 1 + memberSteps.length * 2 + noticeSteps.flat().length + events.length + guards.length;

      if (size <= MAX_TRANSACTION_ITEMS) {
        const steps = [put(groupToItem(group)), ...memberSteps.flat(), ...noticeSteps.flat()];
        try {
          await commit({ writes: [...steps.map((s) => s.write), ...guards.map((g) => g.write)], events }, group.createdAt);
        } catch (error) {
          throw guardError(error, steps.length, guards) ?? creationError(error, steps, group.creatorId, maxUserGroups);
        }
        return;
      }

      // Larger than one transaction: ordered chunks. The group is written first as `creating`
      // (invisible to every read) with the janitor's repair entry, then the members and notices,
      // then one last transaction makes it active (only while still `creating`), removes the entry
      // and carries the events. Each chunk has its own idempotency token; if one fails, every chunk
      // written is undone. If the request dies instead, the janitor abandons the creation once the
      // entry is due (5 minutes: no request lives that long, the Lambda's timeout is 10 s, so no
      // chunk can land after it) and undoes it (lib/domain/janitor.ts). The member chunks do not
      // check the group item: parallel transactions on one item conflict in DynamoDB.
      const [ownerSteps = [], ...restSteps] = memberSteps;
      const chunks: Step[][] = [
        [put({ ...groupToItem({ ...group, status: 'creating' }), ...keys.repairSchedule(group.id, group.createdAt + CREATION_STALE_MS) }), ...ownerSteps],
      ];
      const perChunk = Math.floor(MAX_TRANSACTION_ITEMS / 2);
      for (let i = 0; i < restSteps.length; i += perChunk) chunks.push(restSteps.slice(i, i + perChunk).flat());
      // A notice and its pointers always land together (the janitor finds the pointers through the notice).
      for (const chunk of packed(noticeSteps, MAX_TRANSACTION_ITEMS)) chunks.push(chunk);

      // Chunk 0 (the invisible group and its owner) first; the other chunks are independent of
      // each other and go in parallel waves; the final transaction last.
      const committed: Step[][] = [];
      const [first = [], ...middle] = chunks;
      const write = async (chunk: Step[], index: number) => {
        try {
          await commit({ writes: chunk.map((s) => s.write), token: `create-${group.id}-${index}` }, group.createdAt);
        } catch (reason) {
          throw new ChunkFailed(chunk, reason);
        }
      };
      try {
        await write(first, 0);
        committed.push(first);
        for (let i = 0; i < middle.length; i += PARALLEL_CHUNKS) {
          const wave = middle.slice(i, i + PARALLEL_CHUNKS);
          const results = await Promise.allSettled(wave.map((chunk, j) => write(chunk, 1 + i + j)));
          wave.forEach((chunk, j) => {
            if (results[j]?.status === 'fulfilled') committed.push(chunk);
          });
          const failed = results.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
        }
        try {
          await commit(
            {
              writes: [
                {
                  Update: {
                    TableName: tableName,
                    Key: keys.group(group.id),
                    UpdateExpression: 'SET #status = :active REMOVE gsi2pk, gsi2sk',
                    ConditionExpression: '#status = :creating',
                    ExpressionAttributeNames: { '#status': 'status' },
                    ExpressionAttributeValues: { ':active': 'active', ':creating': 'creating' },
                  },
                },
                ...guards.map((g) => g.write),
              ],
              events,
              token: `create-${group.id}-final`,
            },
            group.createdAt,
          );
        } catch (error) {
          throw guardError(error, 1, guards) ?? error;
        }
      } catch (error) {
        await compensate(committed, group.id);
        throw error instanceof ChunkFailed ? creationError(error.reason, error.chunk, group.creatorId, maxUserGroups) : error;
      }
    },

    async rename({ groupId, ownerId, name, now, event }) {
      try {
        await commit(
          {
            writes: [
              {
                Update: {
                  TableName: tableName,
                  Key: keys.group(groupId),
                  UpdateExpression: 'SET #name = :name, updatedAt = :now ADD version :one',
                  ConditionExpression: 'attribute_exists(pk) AND #status = :active AND creatorId = :owner',
                  ExpressionAttributeNames: { '#name': 'name', '#status': 'status' },
                  ExpressionAttributeValues: { ':name': name, ':now': now, ':one': 1, ':active': 'active', ':owner': ownerId },
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
            ],
            events: [event],
          },
          now,
        );
      } catch (error) {
        if (!(error instanceof CommitCancelled)) throw error;
        const old = error.reasons[0]?.item;
        if (!old || old.status !== 'active') throw new NotFound('Unknown group.');
        throw new InvalidInput('Unknown group or not creator.');
      }
    },
  };
};
