import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCommitter } from './commit.ts';
import { createDeliveryLedger } from './deliveries.ts';
import { createGroupRepository } from './groups.ts';
import { createImMirrorStore } from './im-mirror.ts';
import { createMemberRepository } from './members.ts';
import { createUserRepository } from './users.ts';

/** All repositories over one table, sharing one client and one commit path. */
export const createStore = (client: DynamoDBDocumentClient, tableName: string) => {
  const commit = createCommitter(client, tableName);
  return {
    commit,
    groups: createGroupRepository(client, tableName, commit),
    members: createMemberRepository(client, tableName),
    users: createUserRepository(client, tableName),
    deliveries: createDeliveryLedger(client, tableName),
    imMirror: createImMirrorStore(client, tableName),
  };
};

export type Store = ReturnType<typeof createStore>;
