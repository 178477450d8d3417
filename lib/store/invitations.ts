import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  InvitationConflict,
  PartlyCommitted,
  type ChangePart,
  type Conflict,
  type Expectations,
  type InvitationStore,
  type NoticeKey,
  type NoticeUpdate,
} from '../domain/invitations.ts';
import type { Notice } from '../domain/model.ts';
import { batchGet, queryPrefix } from './batch.ts';
import { CommitCancelled, MAX_TRANSACTION_ITEMS } from './commit.ts';
import { parseGroup, parseInbox, parseNotice } from './items.ts';
import { keys } from './keys.ts';
import type { Guarded, MembershipWrites } from './membership.ts';

/**
 * Invitations and admissions: add, join, agree, notice_info, clear_notice.
 *
 * A change is one transaction: the group item (active; `memberCount` moved within `maxMemberCount`
 * when members are admitted; the certification switch and the acting manager as the decision saw
 * them), the acting member's role, the new members with their group counts, their exit records and
 * waiting notices, the notices written and the one answered (still waiting, unexpired, addressed to
 * the caller), and the events. A change larger than one transaction is split into ordered chunks
 * (admissions first), each carrying the same guards and its own events; when one fails after
 * others committed, the error says what committed (`PartlyCommitted`).
 */

/** Events one chunk may carry (add: two GroupInvited and one MembersJoined). */
const EVENT_ROOM = 3;
const BATCH_WRITE_LIMIT = 25;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const conflict = (c: Conflict) => () => new InvitationConflict(c);

interface Unit {
  admitted?: string;
  notice?: Notice;
  writes: Guarded[];
}

export const createInvitationStore = (client: DynamoDBDocumentClient, tableName: string, m: MembershipWrites): InvitationStore => {
  /** Extra conditions on the group item for what the decision read there. */
  const groupConditions = (expect: Expectations) => {
    const condition: string[] = [];
    const values: Record<string, unknown> = {};
    if (expect.certiStatus !== undefined) {
      condition.push('certiStatus = :certi');
      values[':certi'] = expect.certiStatus;
    }
    if (expect.staff !== undefined) {
      condition.push('(creatorId = :staff OR contains(managerIds, :staff))');
      values[':staff'] = expect.staff;
    }
    return { condition, values };
  };

  const groupFails = (delta: number) => (old: Record<string, unknown> | undefined) =>
    new InvitationConflict({ kind: 'group', group: old ? parseGroup(old) : null, delta });

  /**
   * The group item: active and as the decision saw it; with `delta` members admitted, `memberCount`
   * moves by `delta` within the `maxMemberCount` the decision read (see `m.writes.group`); with no
   * one admitted, a condition check only.
   */
  const groupWrite = (groupId: string, delta: number, now: number, expect: Expectations, maxMemberCount: number): Guarded => {
    const extra = groupConditions(expect);
    const condition = ['attribute_exists(pk)', '#status = :active', ...extra.condition];
    const names = { '#status': 'status' };
    const values: Record<string, unknown> = { ':active': 'active', ...extra.values };
    if (delta === 0) {
      return {
        write: {
          ConditionCheck: {
            TableName: tableName,
            Key: keys.group(groupId),
            ConditionExpression: condition.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        fails: groupFails(0),
      };
    }
    return m.writes.group(groupId, delta, now, groupFails(delta), { ...extra, maxMemberCount });
  };

  /** The acting member still has the role the decision saw. */
  const actorCheck = (groupId: string, actor: NonNullable<Expectations['member']>): Guarded => ({
    write: {
      ConditionCheck: {
        TableName: tableName,
        Key: keys.member(groupId, actor.userId),
        ConditionExpression: 'attribute_exists(pk) AND #role = :role',
        ExpressionAttributeNames: { '#role': 'role' },
        ExpressionAttributeValues: { ':role': actor.role },
      },
    },
    fails: conflict({ kind: 'actor' }),
  });

  /** The user is still not a member. */
  const absentCheck = (groupId: string, userId: string): Guarded => ({
    write: {
      ConditionCheck: { TableName: tableName, Key: keys.member(groupId, userId), ConditionExpression: 'attribute_not_exists(pk)' },
    },
    fails: conflict({ kind: 'member', userId }),
  });

  /** Sets a notice's status; `guard` adds the condition that it is still waiting, unexpired (and addressed to a viewer). */
  const noticeUpdate = (u: NoticeUpdate, now: number, guard?: { viewerId?: string | undefined }): Guarded => {
    const names: Record<string, string> = { '#status': 'status', '#ts': 'timestamp' };
    const values: Record<string, unknown> = { ':s': u.status, ':ts': u.timestamp, ':exp': u.expiresAt };
    let condition = 'attribute_exists(pk)';
    if (guard) {
      condition = '#status = :waiting AND expiresAt > :nowS';
      values[':waiting'] = 2;
      values[':nowS'] = Math.floor(now / 1000);
      if (guard.viewerId !== undefined) {
        condition += ' AND contains(viewerIds, :viewer)';
        values[':viewer'] = guard.viewerId;
      }
    }
    return {
      write: {
        Update: {
          TableName: tableName,
          Key: keys.notice(u.key.groupId, u.key.type, u.key.receiverId),
          UpdateExpression: 'SET #status = :s, #ts = :ts, expiresAt = :exp',
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      fails: conflict(guard ? { kind: 'answer' } : { kind: 'stale' }),
    };
  };

  return {
    members: (groupId, userIds) => m.reads.members(groupId, userIds),

    async notices(noticeKeys) {
      const items = await batchGet(client, tableName, noticeKeys.map((k) => keys.notice(k.groupId, k.type, k.receiverId)), true);
      return items.map(parseNotice);
    },

    async commit(change) {
      const { groupId, now, expect } = change;
      const guards: Guarded[] = [
        ...(expect.member ? [actorCheck(groupId, expect.member)] : []),
        ...(expect.absent ?? []).map((u) => absentCheck(groupId, u)),
      ];
      const answer = change.answer ? [noticeUpdate(change.answer.update, now, { viewerId: change.answer.viewerId })] : [];
      const units: Unit[] = [
        ...change.admit.map((a) => ({
          admitted: a.member.userId,
          writes: [
            ...m.writes.join(a.member, change.maxUserGroups, {
              exists: conflict({ kind: 'member', userId: a.member.userId }),
              limit: conflict({ kind: 'limit', userId: a.member.userId }),
            }),
            m.writes.deleteExit(groupId, a.member.userId),
            ...a.expire.map((u) => noticeUpdate(u, now)),
          ],
        })),
        ...change.notices.map((notice) => ({ notice, writes: m.writes.notice(notice) })),
      ];

      // Pack the units into as few transactions as they fit, in order.
      const room = MAX_TRANSACTION_ITEMS - EVENT_ROOM - 1 - guards.length - answer.length;
      const chunks: Unit[][] = [[]];
      let size = 0;
      for (const unit of units) {
        if (unit.writes.length > room) throw new Error(`one admission or notice needs ${unit.writes.length} writes, more than a transaction holds`);
        if (size + unit.writes.length > room) {
          chunks.push([]);
          size = 0;
        }
        (chunks.at(-1) as Unit[]).push(unit);
        size += unit.writes.length;
      }

      const committed: ChangePart = { admitted: [], notices: [] };
      for (const [i, chunk] of chunks.entries()) {
        const admitted = chunk.flatMap((u) => (u.admitted === undefined ? [] : [u.admitted]));
        const notices = chunk.flatMap((u) => (u.notice ? [u.notice] : []));
        // The answered notice first: of two concurrent answers, the loser fails on it.
        const guarded = [
          ...(i === 0 ? answer : []),
          groupWrite(groupId, admitted.length, now, expect, change.maxMemberCount),
          ...guards,
          ...chunk.flatMap((u) => u.writes),
        ];
        try {
          // Chunk i commits at `now + i` in the outbox, so its events keep the chunks' order.
          await m.commitGuarded(guarded, change.events({ admitted, notices }), now + i);
        } catch (error) {
          // Cancelled without a failed condition: it kept colliding with concurrent transactions.
          const failure = error instanceof CommitCancelled ? new InvitationConflict({ kind: 'stale' }) : error;
          // The chunks before this one stay committed, events and all: the domain answers for them.
          throw i === 0 ? failure : new PartlyCommitted({ admitted: [...committed.admitted], notices: [...committed.notices] }, failure);
        }
        committed.admitted.push(...admitted);
        committed.notices.push(...notices);
      }
    },

    async inbox(viewerId) {
      const items = await queryPrefix(client, tableName, keys.inboxOf(viewerId));
      return items.map(parseInbox).map((p): NoticeKey => ({ groupId: p.groupId, type: p.type, receiverId: p.receiverId }));
    },

    async clearInbox(viewerId) {
      const items = await queryPrefix(client, tableName, keys.inboxOf(viewerId), 'pk, sk');
      const batches: Record<string, unknown>[][] = [];
      for (let i = 0; i < items.length; i += BATCH_WRITE_LIMIT) batches.push(items.slice(i, i + BATCH_WRITE_LIMIT));
      await Promise.all(
        batches.map(async (batch) => {
          let pending: Record<string, unknown>[] = batch.map((item) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } }));
          for (let attempt = 0; pending.length > 0; attempt++) {
            if (attempt > 8) throw new Error('BatchWrite kept returning unprocessed items');
            if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
            const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
            pending = (out.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
          }
        }),
      );
    },
  };
};
