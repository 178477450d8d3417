import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { readAgreeing, rolesAgree, type ExitRecord, type Group, type Member, type Notice } from '../domain/model.ts';
import type { DomainEvent } from '../events/index.ts';
import { batchGet, getParsed } from './batch.ts';
import { CommitCancelled, type Commit, type Write } from './commit.ts';
import { exitToItem, inboxToItem, memberToItem, noticeToItem, parseGroup, parseMember, parseNotice } from './items.ts';
import { keys } from './keys.ts';

/**
 * The building blocks of every membership change (add, join, agree, kick, quit, dismiss, transfer,
 * managers): the writes that keep the invariants, composed by the repositories into ONE
 * transaction with the change's events, and the reads they start from.
 *
 * - A member joins: the member item (must not exist) and +1 on the user's group count (within the
 *   per-user limit); the group's `memberCount` moves by the same number in the same transaction,
 *   within `maxMemberCount`, only while the group is active (`groupSeats`).
 * - A member leaves: the member item (must exist, with the role the caller saw) and −1 on the count.
 * - A departure leaves an exit record; a re-admission deletes it (by key, whether or not there is one).
 */

/** A write and what its failed condition means (the domain error to raise). */
export interface Guarded {
  write: Write;
  /** Called with the item as it was (when the write asked for ALL_OLD) if this write's condition failed. */
  fails?: (old: Record<string, unknown> | undefined) => Error;
}

export const createMembershipWrites = (client: DynamoDBDocumentClient, tableName: string, commit: Commit) => {
  const w = {
    /**
     * The group item: active, and `memberCount + delta` within `[0, maxMemberCount]`; `set` adds
     * SET clauses (`#name = :value` with their names and values), `condition` extra conditions.
     * Admissions (`delta > 0`) name the `maxMemberCount` the caller read: conditions have no
     * arithmetic, so the room left is computed here and that maximum is guarded too.
     */
    group: (
      groupId: string,
      delta: number,
      now: number,
      fails: Guarded['fails'],
      extra: {
        set?: string[];
        condition?: string[];
        names?: Record<string, string>;
        values?: Record<string, unknown>;
        maxMemberCount?: number;
      } = {},
    ): Guarded => {
      if (delta > 0 && extra.maxMemberCount === undefined) throw new Error('an admission must name the maxMemberCount it read');
      return {
      write: {
        Update: {
          TableName: tableName,
          Key: keys.group(groupId),
          UpdateExpression: `SET updatedAt = :now${extra.set?.length ? `, ${extra.set.join(', ')}` : ''} ADD memberCount :delta, version :one`,
          ConditionExpression: [
            'attribute_exists(pk)',
            '#status = :active',
            ...(delta > 0 ? ['maxMemberCount = :max', 'memberCount <= :room'] : delta < 0 ? ['memberCount >= :minus'] : []),
            ...(extra.condition ?? []),
          ].join(' AND '),
          ExpressionAttributeNames: { '#status': 'status', ...extra.names },
          ExpressionAttributeValues: {
            ':now': now,
            ':delta': delta,
            ':one': 1,
            ':active': 'active',
            ...(delta < 0 ? { ':minus': -delta } : {}),
            ...(delta > 0 ? { ':max': extra.maxMemberCount, ':room': (extra.maxMemberCount ?? 0) - delta } : {}),
            ...extra.values,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      fails,
      };
    },

    /** A new member (not already one) and +1 on their group count within `maxUserGroups`. */
    join: (member: Member, maxUserGroups: number, fails: { exists: Guarded['fails']; limit: Guarded['fails'] }): Guarded[] => [
      {
        write: {
          Put: {
            TableName: tableName,
            Item: memberToItem(member),
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        fails: fails.exists,
      },
      {
        write: {
          Update: {
            TableName: tableName,
            Key: keys.profile(member.userId),
            UpdateExpression: 'SET userId = :u, kind = :k ADD groupCount :one',
            ConditionExpression: 'attribute_not_exists(groupCount) OR groupCount < :max',
            ExpressionAttributeValues: { ':u': member.userId, ':k': 'profile', ':one': 1, ':max': maxUserGroups },
          },
        },
        fails: fails.limit,
      },
    ],

    /** A member leaves: the member item (still there, with `role` when given) and −1 on their group count. */
    leave: (groupId: string, userId: string, fails: Guarded['fails'], role?: number): Guarded[] => [
      {
        write: {
          Delete: {
            TableName: tableName,
            Key: keys.member(groupId, userId),
            ConditionExpression: role === undefined ? 'attribute_exists(pk)' : 'attribute_exists(pk) AND #role = :role',
            ...(role === undefined ? {} : { ExpressionAttributeNames: { '#role': 'role' }, ExpressionAttributeValues: { ':role': role } }),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        fails,
      },
      {
        write: {
          Update: {
            TableName: tableName,
            Key: keys.profile(userId),
            UpdateExpression: 'ADD groupCount :minus',
            ExpressionAttributeValues: { ':minus': -1 },
          },
        },
      },
    ],

    /** Sets a member's role, guarded by the role the caller saw. */
    role: (groupId: string, userId: string, from: number, to: number, now: number, fails: Guarded['fails']): Guarded => ({
      write: {
        Update: {
          TableName: tableName,
          Key: keys.member(groupId, userId),
          UpdateExpression: 'SET #role = :to, updatedAt = :now',
          ConditionExpression: 'attribute_exists(pk) AND #role = :from',
          ExpressionAttributeNames: { '#role': 'role' },
          ExpressionAttributeValues: { ':to': to, ':from': from, ':now': now },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      fails,
    }),

    exit: (record: ExitRecord): Guarded => ({ write: { Put: { TableName: tableName, Item: exitToItem(record) } } }),
    /** The user's exit record, if any: deleted by key without reading it, so a departure committed after the admission's reads goes too. */
    deleteExit: (groupId: string, userId: string): Guarded => ({
      write: { Delete: { TableName: tableName, Key: keys.exited(groupId, userId) } },
    }),

    /** A notice and its viewers' pointers (an upsert: a repeated request replaces it). */
    notice: (notice: Notice, condition?: { expression: string; values: Record<string, unknown>; names?: Record<string, string>; fails: Guarded['fails'] }): Guarded[] => [
      {
        write: {
          Put: {
            TableName: tableName,
            Item: noticeToItem(notice),
            ...(condition
              ? {
                  ConditionExpression: condition.expression,
                  ExpressionAttributeValues: condition.values,
                  ...(condition.names ? { ExpressionAttributeNames: condition.names } : {}),
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
                }
              : {}),
          },
        },
        ...(condition ? { fails: condition.fails } : {}),
      },
      ...notice.viewerIds.map((viewerId) => ({ write: { Put: { TableName: tableName, Item: inboxToItem(viewerId, notice) } } })),
    ],
  };

  const reads = {
    group: (groupId: string): Promise<Group | null> => getParsed(client, tableName, keys.group(groupId), parseGroup),
    member: (groupId: string, userId: string): Promise<Member | null> => getParsed(client, tableName, keys.member(groupId, userId), parseMember),
    /** The members among `userIds` (strongly consistent), by user id. */
    async members(groupId: string, userIds: readonly string[]): Promise<Map<string, Member>> {
      const items = await batchGet(client, tableName, userIds.map((u) => keys.member(groupId, u)), true);
      return new Map(items.map(parseMember).map((m): [string, Member] => [m.userId, m]));
    },
    notice: (groupId: string, type: number, receiverId: string): Promise<Notice | null> =>
      getParsed(client, tableName, keys.notice(groupId, type, receiverId), parseNotice),
    /**
     * The group and the memberships of `userIds`, in one strongly consistent batch read. A batch
     * read is not isolated: it can see a transaction (a transfer, a role change) committed between
     * two of its items, and answer an owner by the member items that the group item does not name.
     * Such a torn read is read again (`readAgreeing`), so decisions and denial messages rest on
     * roles that agree; the writes' conditions still guard whatever is decided.
     */
    snapshot(groupId: string, userIds: readonly string[]): Promise<{ group: Group | null; members: Map<string, Member> }> {
      const itemKeys = [keys.group(groupId), ...userIds.map((u) => keys.member(groupId, u))];
      return readAgreeing(
        async () => {
          const items = await batchGet(client, tableName, itemKeys, true);
          const meta = items.find((item) => item.sk === 'META');
          const members = items.filter((item) => item.sk !== 'META').map(parseMember);
          return { group: meta ? parseGroup(meta) : null, members: new Map(members.map((m): [string, Member] => [m.userId, m])) };
        },
        ({ group, members }) => rolesAgree(group, members.values()),
      );
    },
  };

  /**
   * Commits `guarded` writes with `events` in one transaction; a failed condition becomes the
   * domain error its write names (the first failed one), anything else is thrown as is.
   */
  const commitGuarded = async (guarded: Guarded[], events: DomainEvent[], now: number): Promise<void> => {
    try {
      await commit({ writes: guarded.map((g) => g.write), events }, now);
    } catch (error) {
      if (!(error instanceof CommitCancelled)) throw error;
      const index = error.firstFailed();
      const fails = guarded[index]?.fails;
      if (fails) throw fails(error.reasons[index]?.item);
      throw error;
    }
  };

  return { writes: w, reads, commitGuarded };
};

export type MembershipWrites = ReturnType<typeof createMembershipWrites>;
