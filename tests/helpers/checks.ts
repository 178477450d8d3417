import { expect } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import type { Reply } from './endpoints.ts';
import { eventsFor, groupItem, partitionItems, patch } from './db.ts';
import { uniqueUserId } from './ids.ts';

/** Checks and set-ups shared by the endpoint tests. */

/** Unique user ids, one per prefix: `const [owner, bob] = users('owner', 'bob')`. */
export const users = <P extends string[]>(...prefixes: P) => prefixes.map((p) => uniqueUserId(p)) as { [K in keyof P]: string };

/** HTTP 200 `{"code":200}`. */
export const ok = (reply: Reply) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body).toEqual({ code: 200 });
};

/** The HTTP status with the `{code, message}` envelope. */
export const expectDenied = (reply: Reply, status: number, message: string) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body).toEqual({ code: status, message });
};

/** Marks a group dismissed directly in the table. */
export const dismissLocally = (groupId: string) => patch(keys.group(groupId), { status: 'dismissed', deletedAt: new Date().toISOString() });

/** Everything of a group a denied request must leave as it was: the group item, members, events. */
export const stateOf = async (groupId: string) => ({
  group: await groupItem(groupId),
  members: (await partitionItems(groupId, 'MEMBER#')).sort((a, b) => String(a.sk).localeCompare(String(b.sk))),
  events: await eventsFor(groupId),
});
