import * as z from 'zod/mini';
import '../zod.ts';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ALREADY_SAVED, NOT_OWNER, type ControlsStore } from '../domain/controls.ts';
import { KEPT_CHANGING, NOT_MEMBER } from '../domain/departures.ts';
import { Forbidden, InvalidInput, NotAllowed, NotFound } from '../domain/errors.ts';
import { UNKNOWN_GROUP } from '../domain/groups.ts';
import { StaleRead } from '../domain/roles.ts';
import type { DomainEvent } from '../events/index.ts';
import { queryPrefix } from './batch.ts';
import { CommitCancelled } from './commit.ts';
import { keys } from './keys.ts';
import type { Guarded, MembershipWrites } from './membership.ts';

/**
 * Group controls: mute_all, set/get_regular_clear, favourites (fav, user/favgroups).
 *
 * - Mute: one update of the group item (`isMute`, `muteWhitelist`) guarded by what the decision read
 *   (active, owner, managers, whitelist) and by each named speaker's member item, with the event.
 * - Regular clear: one update of the group item guarded by active + owner; the sparse GSI2 schedule
 *   attributes are set while clearing is on and removed when it is switched off.
 * - Favourites: `USER#u / FAV#g` items, written only while the group is active and the user a member
 *   (checks in the same transaction); removed by the `group-cleanup` consumer on kick, quit, dismiss.
 */

const isGone = (old: Record<string, unknown> | undefined): boolean => !old || old.status !== 'active';

/** A condition that a list attribute equals the list read (an empty list may also be absent). */
const listIs = (name: string, placeholder: string, list: readonly string[]): { condition: string; values: Record<string, unknown> } =>
  list.length === 0
    ? { condition: `(attribute_not_exists(${name}) OR size(${name}) = :zero)`, values: { ':zero': 0 } }
    : { condition: `${name} = ${placeholder}`, values: { [placeholder]: [...list] } };

const favItem = z.object({ groupId: z.string(), createdAt: z.number().check(z.int()) });

export const createControlsStore = (client: DynamoDBDocumentClient, tableName: string, m: MembershipWrites): ControlsStore => {
  /** Commits; a cancellation no condition explains (conflicts that outlasted the retries) is a 405 to retry. */
  const commitOrBusy = async (guarded: Guarded[], events: DomainEvent[], now: number): Promise<void> => {
    try {
      await m.commitGuarded(guarded, events, now);
    } catch (error) {
      if (error instanceof CommitCancelled) throw new NotAllowed(KEPT_CHANGING);
      throw error;
    }
  };

  return {
  snapshot: (groupId, userIds) => m.reads.snapshot(groupId, userIds),

  async setMute({ group, muteStatus, whitelist, speakers, now, event }) {
    const managers = listIs('managerIds', ':managersRead', group.managerIds);
    const allowed = listIs('muteWhitelist', ':whitelistRead', group.muteWhitelist);
    const guarded: Guarded[] = [
      m.writes.group(group.id, 0, now, (old) => (isGone(old) ? new NotFound(UNKNOWN_GROUP) : new StaleRead('group')), {
        set: ['isMute = :mute', 'muteWhitelist = :whitelist'],
        condition: ['creatorId = :ownerRead', managers.condition, allowed.condition],
        values: { ':mute': muteStatus, ':whitelist': whitelist, ':ownerRead': group.creatorId, ...managers.values, ...allowed.values },
      }),
      ...speakers.map(
        (userId): Guarded => ({
          write: { ConditionCheck: { TableName: tableName, Key: keys.member(group.id, userId), ConditionExpression: 'attribute_exists(pk)' } },
          fails: () => new StaleRead(`member ${userId}`),
        }),
      ),
    ];
    try {
      await m.commitGuarded(guarded, [event], now);
    } catch (error) {
      // Cancelled without a failed condition (conflicts that outlasted the retries): decide again.
      if (error instanceof CommitCancelled) throw new StaleRead('conflict');
      throw error;
    }
  },

  async setRegularClear({ groupId, ownerId, clearStatus, now, event }) {
    const on = clearStatus !== 0;
    const schedule = keys.clearSchedule(groupId, now);
    await commitOrBusy(
      [
        {
          write: {
            Update: {
              TableName: tableName,
              Key: keys.group(groupId),
              UpdateExpression: [
                `SET clearStatus = :status, clearTimeAt = :at, updatedAt = :now${on ? ', gsi2pk = :gsi2pk, gsi2sk = :gsi2sk' : ''}`,
                ...(on ? [] : ['REMOVE gsi2pk, gsi2sk']),
                'ADD version :one',
              ].join(' '),
              ConditionExpression: 'attribute_exists(pk) AND #status = :active AND creatorId = :owner',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':status': clearStatus,
                ':at': on ? now : null,
                ':now': now,
                ':one': 1,
                ':active': 'active',
                ':owner': ownerId,
                ...(on ? { ':gsi2pk': schedule.gsi2pk, ':gsi2sk': schedule.gsi2sk } : {}),
              },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
          fails: (old) => (isGone(old) ? new NotFound(UNKNOWN_GROUP) : new InvalidInput(NOT_OWNER)),
        },
      ],
      [event],
      now,
    );
  },

  async addFavourite({ groupId, userId, now }) {
    const guarded: Guarded[] = [
      {
        write: {
          ConditionCheck: {
            TableName: tableName,
            Key: keys.group(groupId),
            ConditionExpression: 'attribute_exists(pk) AND #status = :active',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':active': 'active' },
          },
        },
        fails: () => new NotFound(UNKNOWN_GROUP),
      },
      {
        write: { ConditionCheck: { TableName: tableName, Key: keys.member(groupId, userId), ConditionExpression: 'attribute_exists(pk)' } },
        fails: () => new Forbidden(NOT_MEMBER),
      },
      {
        write: {
          Put: {
            TableName: tableName,
            Item: { ...keys.fav(userId, groupId), kind: 'fav', userId, groupId, createdAt: now },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        fails: () => new NotAllowed(ALREADY_SAVED),
      },
    ];
    await commitOrBusy(guarded, [], now);
  },

  async removeFavourite({ groupId, userId }) {
    await client.send(new DeleteCommand({ TableName: tableName, Key: keys.fav(userId, groupId) }));
  },

  async favourites(userId) {
    const items = await queryPrefix(client, tableName, keys.favsOf(userId));
    return items
      .map((item) => z.parse(favItem, item))
      .sort((a, b) => a.createdAt - b.createdAt || (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  },
  };
};
