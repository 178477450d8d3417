import { isDeepStrictEqual } from 'node:util';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { KEPT_CHANGING } from '#lib/domain/stale.ts';
import { keys } from '#lib/store/keys.ts';
import { db, groupItem, memberItem, profileItem, tableName, type OutboxEvent } from '#tests/helpers/db.ts';
import type { Reply } from '#tests/helpers/endpoints.ts';

/** Answers and table checks shared by the race sweeps (races.test.ts, races-settings.test.ts). */

/** Items of a partition whose sort key starts with `prefix` (a strongly consistent query: no scan of the shared table). */
const query = async (pk: string, prefix: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
};

/** Items of the group's partition whose sort key starts with `prefix` (e.g. `MEMBER#`). */
export const itemsOf = (groupId: string, prefix: string) => query(keys.group(groupId).pk, prefix);

/** The group's outbox events, ordered as tests/helpers/db.ts `eventsFor` orders them (decision time, then position). */
export const eventsOf = async (groupId: string): Promise<OutboxEvent[]> =>
  (await query(`OUTBOX#${groupId}`, 'EVENT#')).map((item) => ({
    detailType: item.detailType as string,
    source: item.source as string,
    detail: JSON.parse(item.detail as string) as Record<string, unknown>,
  }));

export type Answer = readonly [status: number, body: Reply['body']];
export const OK: Answer = [200, { code: 200 }];
export const JOINED: Answer = [200, { code: 200, result: { status: 1 } }];
export const REQUESTED: Answer = [200, { code: 200, result: { status: 2 } }];
export const added = (...ids: string[]): Answer => [200, { code: 200, result: ids.map((id) => ({ id, status: 1 })) }];
export const denied = (status: number, message: string): Answer => [status, { code: status, message }];
export const TRY_AGAIN = denied(405, KEPT_CHANGING);
export const UNKNOWN = denied(404, 'Unknown group.');
export const EXISTS = denied(400, 'Should not add exist member to the group.');
export const ANSWERED = denied(403, 'This notice has already been answered.');
export const NOT_MEMBER = denied(403, 'Current user is not group member.');
export const NOT_MANAGER = denied(403, 'Current user is not group manager.');
export const FULL = (max: number) => denied(400, `Group's member count is out of max group member count limit (${max}).`);

/** The reply is one of `allowed`: the winner's answer or a documented refusal, never a 500 nor anything else. */
export const expectOneOf = (reply: Reply, ...allowed: Answer[]) => {
  const found = allowed.some(([status, body]) => reply.status === status && isDeepStrictEqual(reply.body, body));
  expect(found, `unexpected answer ${reply.status} ${JSON.stringify(reply.body)}`).toBe(true);
};
export const won = (reply: Reply) => reply.status === 200 && reply.body.code === 200;
export const retried = (replies: Reply[]) => replies.some((r) => r.status === 405);

/**
 * The group as the table holds it, checked for what must hold after any interleaving: memberCount =
 * member items ≤ maxMemberCount, and while active exactly one member with role 0, the group's
 * creatorId, and managerIds = the role-2 members.
 */
export const exact = async (groupId: string) => {
  const group = (await groupItem(groupId)) as Record<string, unknown>;
  const items = await itemsOf(groupId, 'MEMBER#');
  if (group.status === 'active') {
    expect(group.memberCount).toBe(items.length);
    expect(items.length).toBeLessThanOrEqual(group.maxMemberCount as number);
    expect(items.filter((m) => m.role === 0).map((m) => m.userId)).toEqual([group.creatorId]);
    expect(items.filter((m) => m.role === 2).map((m) => m.userId as string).sort()).toEqual([...(group.managerIds as string[])].sort());
  } else {
    expect(group.memberCount).toBe(0);
  }
  return { group, members: new Set(items.map((m) => m.userId as string)) };
};

/** Each user's group count is exactly their memberships among `groupIds` (a test's users are in no other group). */
export const expectCounts = async (userIds: string[], groupIds: string[]) => {
  for (const userId of userIds) {
    const memberships = (await Promise.all(groupIds.map((g) => memberItem(g, userId)))).filter(Boolean).length;
    expect(((await profileItem(userId))?.groupCount as number | undefined) ?? 0, userId).toBe(memberships);
  }
};

export const ofType = (events: OutboxEvent[], type: string) => events.filter((e) => e.detailType === type).map((e) => e.detail);
export const joinedIds = (events: OutboxEvent[]) => ofType(events, 'MembersJoined').flatMap((d) => d.memberIds as string[]);
export const sorted = (ids: Iterable<string>) => [...ids].sort();
