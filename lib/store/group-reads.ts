import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Group } from '../domain/model.ts';
import type { GroupReads } from '../domain/ports.ts';
import { batchGet, getParsed } from './batch.ts';
import { parseGroup } from './items.ts';
import { keys } from './keys.ts';

/**
 * Reading group items. Apart from lib/store/groups.ts (the whole group repository: creation and
 * rename too), so the functions that only read groups do not bundle the creation code.
 */
export const createGroupReads = (client: DynamoDBDocumentClient, tableName: string): GroupReads => ({
  get: (groupId) => getParsed(client, tableName, keys.group(groupId), parseGroup),

  async getMany(groupIds) {
    const items = await batchGet(client, tableName, groupIds.map(keys.group));
    return new Map(items.map((item) => parseGroup(item)).map((g): [string, Group] => [g.id, g]));
  },
});
