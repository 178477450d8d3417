import type { EventBridgeEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '#functions/user-profile-updated.ts';
import { USER_EVENT_SOURCE } from '#lib/events/index.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { profileItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

const event = (detail: unknown, time: string): EventBridgeEvent<string, unknown> => ({
  version: '0',
  id: uniqueUserId('event'),
  'detail-type': 'UserProfileUpdated',
  source: USER_EVENT_SOURCE,
  account: '000000000000',
  time,
  region: 'us-east-1',
  resources: [],
  detail,
});

const nicknameIn = async (viewer: string, groupId: string, userId: string) => {
  const members = (await api.members(viewer, groupId)).body.result as { user: { id: string; nickname: string } }[];
  return members.find((m) => m.user.id === userId)?.user.nickname;
};

describe('UserProfileUpdated from the user service', () => {
  it('updates the profile that member lists show', async () => {
    const [owner, bob] = [uniqueUserId('owner'), uniqueUserId('bob')];
    const id = await createGroup(owner, [bob]);
    expect(await nicknameIn(owner, id, bob)).toBe('');

    await handler(event({ userId: bob, nickname: 'Bob', portraitUri: 'https://img.example/b.png', groupVerify: 0 }, '2026-11-26T10:00:00Z'));
    expect(await nicknameIn(owner, id, bob)).toBe('Bob');
    expect(await profileItem(bob)).toMatchObject({ nickname: 'Bob', portraitUri: 'https://img.example/b.png', groupVerify: 0, groupCount: 1 });
  });

  it('ignores an event older than one already applied', async () => {
    const bob = uniqueUserId('bob');
    await handler(event({ userId: bob, nickname: 'New' }, '2026-11-26T10:00:05Z'));
    await handler(event({ userId: bob, nickname: 'Old' }, '2026-11-26T10:00:01Z'));
    expect((await profileItem(bob))?.nickname).toBe('New');
  });

  it('is not undone by the unchanged claims of a token the user already used', async () => {
    const bob = uniqueUserId('bob');
    await api.userGroups({ sub: bob, name: 'Token name' });
    await handler(event({ userId: bob, nickname: 'Event name' }, new Date().toISOString()));
    await api.userGroups({ sub: bob, name: 'Token name' });
    expect((await profileItem(bob))?.nickname).toBe('Event name');
    // A token whose claims changed is news again.
    await api.userGroups({ sub: bob, name: 'Newer token name' });
    expect((await profileItem(bob))?.nickname).toBe('Newer token name');
  });

  it('fails loudly on a malformed event, so it is retried and dead-lettered', async () => {
    await expect(handler(event({ nickname: 'nobody' }, new Date().toISOString()))).rejects.toThrow('userId: ');
    await expect(handler(event({ userId: 'u', groupVerify: 7 }, new Date().toISOString()))).rejects.toThrow('groupVerify');
  });
});
