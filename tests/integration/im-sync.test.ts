import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRongCloudClient } from '#lib/im/client.ts';
import { createRongCloudApi, type RongCloudApi } from '#lib/im/rongcloud.ts';
import { ensureGroup, syncUsers, type SyncDeps } from '#lib/im/sync.ts';
import { createLogger } from '#lib/log.ts';
import { Role } from '#lib/domain/model.ts';
import { createStore } from '#lib/store/index.ts';
import { groupToItem, memberToItem } from '#lib/store/items.ts';
import { keys } from '#lib/store/keys.ts';
import { createGroup } from '#tests/helpers/endpoints.ts';
import { db, tableName } from '#tests/helpers/db.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * IM membership converges to the table whatever order membership changes are processed in: the
 * mechanism the membership events (join, add, agree, kick, quit) use, on DynamoDB Local and the
 * fake RongCloud.
 */

let fake: FakeRongCloud;
let deps: SyncDeps;
let im: RongCloudApi;

beforeAll(async () => {
  fake = await startFakeRongCloud();
  im = createRongCloudApi(createRongCloudClient({ appKey: fake.appKey, appSecret: fake.appSecret, baseUrls: [fake.url] }));
  const store = createStore(db, tableName());
  deps = { im, groups: store.groups, members: store.members, mirror: store.imMirror, now: Date.now, log: createLogger({ test: 'im-sync' }) };
});
afterAll(() => fake?.close());

const join = (groupId: string, userId: string) => {
  const now = Date.now();
  return db.send(
    new PutCommand({
      TableName: tableName(),
      Item: memberToItem({ groupId, userId, role: Role.member, displayName: '', groupNickname: '', createdAt: now, updatedAt: now, timestamp: now }),
    }),
  );
};
const leave = (groupId: string, userId: string) => db.send(new DeleteCommand({ TableName: tableName(), Key: keys.member(groupId, userId) }));
const imMembers = (groupId: string) => fake.groups.get(groupId)?.members ?? new Set<string>();

describe('IM membership sync', () => {
  it('does nothing for a group not yet created in IM: its creation will read the members', async () => {
    const [owner, bob] = [uniqueUserId('owner'), uniqueUserId('bob')];
    const groupId = await createGroup(owner, [bob]);
    const before = fake.calls.length;
    await syncUsers(deps, groupId, [bob]);
    expect(fake.calls.length).toBe(before);
    expect(await ensureGroup(deps, groupId)).toBe(true);
    expect(imMembers(groupId)).toEqual(new Set([owner, bob]));
  });

  it('adds joiners and removes leavers to match the table', async () => {
    const [owner, bob, carol] = [uniqueUserId('owner'), uniqueUserId('bob'), uniqueUserId('carol')];
    const groupId = await createGroup(owner, [bob]);
    await ensureGroup(deps, groupId);
    await join(groupId, carol);
    await leave(groupId, bob);
    await syncUsers(deps, groupId, [bob, carol]);
    expect(imMembers(groupId)).toEqual(new Set([owner, carol]));
  });

  it('keeps a user out when the quit is processed before the join that preceded it', async () => {
    const [owner, bob, dave] = [uniqueUserId('owner'), uniqueUserId('bob'), uniqueUserId('dave')];
    const groupId = await createGroup(owner, [bob]);
    await ensureGroup(deps, groupId);
    // Dave joined, then quit; both events are delivered, the quit's first.
    await join(groupId, dave);
    await leave(groupId, dave);
    await syncUsers(deps, groupId, [dave]); // the quit's processing
    await syncUsers(deps, groupId, [dave]); // the join's, late
    expect(imMembers(groupId)).toEqual(new Set([owner, bob]));
  });

  it('corrects itself when a change lands between its read and its call', async () => {
    const [owner, erin] = [uniqueUserId('owner'), uniqueUserId('erin')];
    const groupId = await createGroup(owner, [uniqueUserId('bob')]);
    await ensureGroup(deps, groupId);
    await join(groupId, erin);

    // The join's processing reads "member", then stalls before its call; meanwhile Erin quits and
    // the quit's processing runs to the end; then the stalled join call lands.
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let readDone!: () => void;
    const hasRead = new Promise<void>((resolve) => (readDone = resolve));
    const slowIm: RongCloudApi = {
      ...im,
      joinGroup: async (...args) => {
        readDone();
        await stalled;
        return im.joinGroup(...args);
      },
    };
    const joinProcessing = syncUsers({ ...deps, im: slowIm }, groupId, [erin]);
    await hasRead;
    await leave(groupId, erin);
    await syncUsers(deps, groupId, [erin]);
    expect(imMembers(groupId).has(erin)).toBe(false);
    release();
    await joinProcessing;
    expect(imMembers(groupId).has(erin)).toBe(false);
  });

  it('creates the IM group under the current name even when a rename committed after the creation read it', async () => {
    const owner = uniqueUserId('owner');
    const groupId = await createGroup(owner, [uniqueUserId('bob')], 'Old');
    const renaming: RongCloudApi = {
      ...im,
      createGroup: async (...args) => {
        await im.createGroup(...args);
        const group = (await deps.groups.get(groupId))!;
        await db.send(new PutCommand({ TableName: tableName(), Item: groupToItem({ ...group, name: 'New' }) }));
      },
    };
    await ensureGroup({ ...deps, im: renaming }, groupId);
    expect(fake.groups.get(groupId)?.name).toBe('New');
    expect((await deps.mirror.get(groupId))?.name).toBe('New');
  });
});
