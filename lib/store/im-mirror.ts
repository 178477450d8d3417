import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getParsed } from './batch.ts';
import * as z from 'zod/mini';
import '../zod.ts';
import { keys } from './keys.ts';

/**
 * What the IM system was last told about a group: that it exists there, and under which name. The
 * notifier writes it right after the RongCloud call that made it true; the table's own group item
 * stays the truth, and the notifier converges IM to it (lib/im/sync.ts).
 */

export interface ImMirror {
  name: string;
  createdAt: number;
}

const mirrorItem = z.object({ name: z.string(), createdAt: z.number().check(z.int()) });

export interface ImMirrorStore {
  get(groupId: string): Promise<ImMirror | null>;
  put(groupId: string, mirror: ImMirror): Promise<void>;
}

export const createImMirrorStore = (client: DynamoDBDocumentClient, tableName: string): ImMirrorStore => ({
  get: (groupId) => getParsed(client, tableName, keys.imMirror(groupId), (item) => z.parse(mirrorItem, item)),
  async put(groupId, mirror) {
    await client.send(
      new PutCommand({ TableName: tableName, Item: { ...keys.imMirror(groupId), kind: 'im-mirror', groupId, ...mirror } }),
    );
  },
});
