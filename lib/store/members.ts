import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MemberRepository } from '../domain/ports.ts';
import { batchGet, getParsed, queryAll, queryPrefix } from './batch.ts';
import { keys } from './keys.ts';
import { parseMember } from './items.ts';
import { TABLE } from './table.ts';

/**
 * Memberships: listed per group (main table, strongly consistent) and per user (GSI1, eventually
 * consistent: a membership may show up in the user's list a moment after it was written).
 */
export const createMemberRepository = (client: DynamoDBDocumentClient, tableName: string): MemberRepository => ({
  async list(groupId) {
    // Strongly consistent: a client lists members right after creating or changing a group.
    const items = await queryPrefix(client, tableName, keys.membersOf(groupId));
    return items.map(parseMember);
  },

  async page(groupId, limit, after) {
    const { pk, skPrefix } = keys.membersOf(groupId);
    const out = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': skPrefix },
        ConsistentRead: true,
        Limit: limit,
        ...(after === undefined ? {} : { ExclusiveStartKey: keys.member(groupId, after) }),
      }),
    );
    const members = (out.Items ?? []).map(parseMember);
    const last = out.LastEvaluatedKey ? members.at(-1)?.userId : undefined;
    return last === undefined ? { members } : { members, after: last };
  },

  get: (groupId, userId) => getParsed(client, tableName, keys.member(groupId, userId), parseMember),

  async currentAmong(groupId, userIds) {
    const items = await batchGet(client, tableName, userIds.map((userId) => keys.member(groupId, userId)), true);
    return new Set(items.map((item) => parseMember(item).userId));
  },

  async ofUser(userId) {
    const { gsi1pk, gsi1skPrefix } = keys.groupsOfUser(userId);
    const items = await queryAll(client, {
      TableName: tableName,
      IndexName: TABLE.gsi1.name,
      KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
      ExpressionAttributeValues: { ':pk': gsi1pk, ':prefix': gsi1skPrefix },
    });
    return items.map(parseMember);
  },
});
