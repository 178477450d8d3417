import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCommitter } from './commit.ts';
import { createDeliveryLedger } from './deliveries.ts';
import { createGroupRepository } from './groups.ts';
import { createImMirrorStore } from './im-mirror.ts';
import { createDepartureStore } from './departures.ts';
import { createInvitationStore } from './invitations.ts';
import { createMembershipWrites } from './membership.ts';
import { createRoleStore } from './roles.ts';
import { createSettingsStore } from './settings.ts';
import { createControlsStore } from './controls.ts';
import { createJanitorStore } from './janitor.ts';
import { createClearingStore } from './clearing.ts';
import { createMemberRepository } from './members.ts';
import { createUserRepository } from './users.ts';

/** All repositories over one table, sharing one client and one commit path. */
export const createStore = (client: DynamoDBDocumentClient, tableName: string) => {
  const commit = createCommitter(client, tableName);
  const membership = createMembershipWrites(client, tableName, commit);
  return {
    /** The one DynamoDB client of this container (benchmarks count its round trips). */
    client,
    commit,
    groups: createGroupRepository(client, tableName, commit),
    members: createMemberRepository(client, tableName),
    users: createUserRepository(client, tableName),
    deliveries: createDeliveryLedger(client, tableName),
    imMirror: createImMirrorStore(client, tableName),
    invitations: createInvitationStore(client, tableName, membership),
    departures: createDepartureStore(client, tableName, membership),
    roles: createRoleStore(client, tableName, membership),
    settings: createSettingsStore(client, tableName, membership),
    controls: createControlsStore(client, tableName, membership),
    janitor: createJanitorStore(client, tableName, commit),
    clearing: createClearingStore(client, tableName, commit),
  };
};

export type Store = ReturnType<typeof createStore>;
