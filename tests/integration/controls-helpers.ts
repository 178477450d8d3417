import type { EventBridgeEvent } from 'aws-lambda';
import { EVENT_SOURCE } from '#lib/events/index.ts';
import { keys } from '#lib/store/keys.ts';
import { eventsFor, getItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/** Shared set-ups and checks of the group-controls tests (mute_all, regular clear, favourites). */

export { dismissLocally, expectDenied, ok, stateOf, users } from '#tests/helpers/checks.ts';

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
