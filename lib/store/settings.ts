import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Role } from '../domain/model.ts';
import { StaleRead } from '../domain/roles.ts';
import type { GroupSettings, Operator, SettingsStore } from '../domain/settings.ts';
import type { Write } from './commit.ts';
import { keys } from './keys.ts';
import type { Guarded, MembershipWrites } from './membership.ts';

/**
 * Settings: set_bulletin, get_bulletin, set_portrait_uri, set_display_name, set_certification,
 * set_member_protection, set/get_member_info.
 *
 * Every write is guarded by what the domain read: the group is active, the operator still holds the
 * role the decision used (the group item holds both: `creatorId` and `managerIds`, kept in the same
 * transactions as the member items' roles), and the value the change builds on (the bulletin
 * counter, the protection flag). A failed guard is `StaleRead`; the domain reads and decides again.
 */

interface Condition {
  expression: string[];
  names: Record<string, string>;
  values: Record<string, unknown>;
}

/** The group is active and the operator is (still) its owner or one of its managers. */
const operatorCondition = (operator: Operator): Condition => {
  const expression = ['attribute_exists(pk)', '#status = :active'];
  const values: Record<string, unknown> = { ':active': 'active' };
  if (operator.role === Role.owner) {
    expression.push('creatorId = :operator');
    values[':operator'] = operator.userId;
  } else if (operator.role === Role.manager) {
    expression.push('contains(managerIds, :operator)');
    values[':operator'] = operator.userId;
  }
  return { expression, names: { '#status': 'status' }, values };
};

/** `field` still has the value read; an absent attribute reads as the default 0. */
const unchanged = (field: string, value: unknown, i: number): Condition => ({
  expression: [value === 0 ? `(attribute_not_exists(#e${i}) OR #e${i} = :e${i})` : `#e${i} = :e${i}`],
  names: { [`#e${i}`]: field },
  values: { [`:e${i}`]: value },
});

const merge = (...conditions: Condition[]): Condition => ({
  expression: conditions.flatMap((c) => c.expression),
  names: Object.assign({}, ...conditions.map((c) => c.names)) as Record<string, string>,
  values: Object.assign({}, ...conditions.map((c) => c.values)) as Record<string, unknown>,
});

/** SET clauses for `fields` (undefined ones skipped), with their names and values. */
const setClauses = (fields: Record<string, unknown>, prefix: string) => {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  return {
    set: entries.map((_, i) => `#${prefix}${i} = :${prefix}${i}`),
    names: Object.fromEntries(entries.map(([k], i) => [`#${prefix}${i}`, k])),
    values: Object.fromEntries(entries.map(([, v], i) => [`:${prefix}${i}`, v])),
  };
};

const stale = (what: string) => () => new StaleRead(what);

export const createSettingsStore = (_client: DynamoDBDocumentClient, tableName: string, m: MembershipWrites): SettingsStore => {
  /** A guard on the group item that writes nothing: active, and the operator in their role. */
  const groupCheck = (groupId: string, operator: Operator): Guarded => {
    const c = operatorCondition(operator);
    return {
      write: {
        ConditionCheck: {
          TableName: tableName,
          Key: keys.group(groupId),
          ConditionExpression: c.expression.join(' AND '),
          ExpressionAttributeNames: c.names,
          ExpressionAttributeValues: c.values,
        },
      },
      fails: stale('group'),
    };
  };

  /** An update of the group item: `set` under `condition`, `updatedAt` and `version` moved. */
  const groupUpdate = (groupId: string, now: number, fields: Record<string, unknown>, condition: Condition): Guarded => {
    const s = setClauses(fields, 's');
    const write: Write = {
      Update: {
        TableName: tableName,
        Key: keys.group(groupId),
        UpdateExpression: `SET ${['updatedAt = :now', ...s.set].join(', ')} ADD version :one`,
        ConditionExpression: condition.expression.join(' AND '),
        ExpressionAttributeNames: { ...condition.names, ...s.names },
        ExpressionAttributeValues: { ...condition.values, ...s.values, ':now': now, ':one': 1 },
      },
    };
    return { write, fails: stale('group') };
  };

  return {
    group: (groupId) => m.reads.group(groupId),
    members: (groupId, userIds) => m.reads.members(groupId, userIds),

    async publishBulletin({ group, operator, bulletin, event }) {
      const history: Guarded = {
        write: {
          Put: {
            TableName: tableName,
            Item: {
              ...keys.bulletin(group.id, bulletin.id),
              kind: 'bulletin',
              groupId: group.id,
              id: bulletin.id,
              content: bulletin.content,
              operatorId: operator.userId,
              timestamp: bulletin.time,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        fails: stale('bulletin id'),
      };
      const update = groupUpdate(
        group.id,
        bulletin.time,
        { bulletin: bulletin.content, bulletinTime: bulletin.time, bulletinCount: bulletin.id },
        merge(operatorCondition(operator), unchanged('bulletinCount', bulletin.id - 1, 0)),
      );
      await m.commitGuarded([update, history], [event], bulletin.time);
    },

    async updateGroup({ group, operator, settings, expected = {}, now, event }) {
      const guards = Object.entries(expected as Record<keyof GroupSettings, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([field, value], i) => unchanged(field, value, i));
      await m.commitGuarded(
        [groupUpdate(group.id, now, { ...settings }, merge(operatorCondition(operator), ...guards))],
        event ? [event] : [],
        now,
      );
    },

    async setMemberInfo({ groupId, operator, memberId, info, now }) {
      const s = setClauses({ ...info, updatedAt: now }, 'f');
      await m.commitGuarded(
        [
          groupCheck(groupId, operator),
          {
            write: {
              Update: {
                TableName: tableName,
                Key: keys.member(groupId, memberId),
                UpdateExpression: `SET ${s.set.join(', ')}`,
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeNames: s.names,
                ExpressionAttributeValues: s.values,
              },
            },
            fails: stale(`member ${memberId}`),
          },
        ],
        [],
        now,
      );
    },

    async setDisplayName({ groupId, userId, displayName, now }) {
      try {
        await m.commitGuarded(
          [
            groupCheck(groupId, { userId, role: 'self' }),
            {
              write: {
                Update: {
                  TableName: tableName,
                  Key: keys.member(groupId, userId),
                  UpdateExpression: 'SET displayName = :name, updatedAt = :now',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeValues: { ':name': displayName, ':now': now },
                },
              },
              fails: stale(`member ${userId}`),
            },
          ],
          [],
          now,
        );
        return true;
      } catch (error) {
        if (error instanceof StaleRead) return false;
        throw error;
      }
    },
  };
};
