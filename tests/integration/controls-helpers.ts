import type { EventBridgeEvent } from 'aws-lambda';
import { expect } from 'vitest';
import { EVENT_SOURCE } from '#lib/events/index.ts';
import { keys } from '#lib/store/keys.ts';
import type { Reply } from '#tests/helpers/endpoints.ts';
import { eventsFor, getItem, groupItem, partitionItems, patch } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/** Shared set-ups and checks of the group-controls tests (mute_all, regular clear, favourites). */

export const users = <P extends string[]>(...prefixes: P) => prefixes.map((p) => uniqueUserId(p)) as { [K in keyof P]: string };

export const ok = (reply: Reply) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body).toEqual({ code: 200 });
};

export const expectDenied = (reply: Reply, status: number, message: string) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body).toEqual({ code: status, message });
};

export const dismissLocally = (groupId: string) => patch(keys.group(groupId), { status: 'dismissed', deletedAt: new Date().toISOString() });

/** Everything of a group a denied request must leave as it was: the group item, members, events. */
export const stateOf = async (groupId: string) => ({
  group: await groupItem(groupId),
  members: (await partitionItems(groupId, 'MEMBER#')).sort((a, b) => String(a.sk).localeCompare(String(b.sk))),
  events: await eventsFor(groupId),
});

/** The bus event a rule delivers for the outbox event `detailType` of the group (the `nth` of that type). */
export const busEventOf = async (groupId: string, detailType: string, nth = 0): Promise<EventBridgeEvent<string, unknown>> => {
  const event = (await eventsFor(groupId)).filter((e) => e.detailType === detailType)[nth];
  if (!event) throw new Error(`no ${detailType} #${nth} for ${groupId}`);
  return {
    version: '0',
    id: uniqueUserId('bus'),
    'detail-type': detailType,
    source: EVENT_SOURCE,
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { ...event.detail, eventId: uniqueUserId('event') },
  };
};

export const favItem = (userId: string, groupId: string) => getItem(keys.fav(userId, groupId));
