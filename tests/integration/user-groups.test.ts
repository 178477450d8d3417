import { describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { patch } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

interface Entry {
  role: number;
  displayName: string;
  group: Record<string, unknown> & { id: string };
}

const entries = async (userId: string) => {
  const reply = await api.userGroups(userId);
  expect(reply.status).toBe(200);
  return reply.body.result as Entry[];
};

describe('GET /user/groups', () => {
  it('answers an empty list for a user in no group', async () => {
    expect(await entries(uniqueUserId('loner'))).toEqual([]);
  });

  it('lists the caller\'s groups with the caller\'s role in each', async () => {
    const [alice, bob] = [uniqueUserId('alice'), uniqueUserId('bob')];
    const owned = await createGroup(alice, [bob], 'Alice owns');
    const joined = await createGroup(bob, [alice], 'Bob owns');
    await createGroup(bob, [uniqueUserId('carol')], 'Not Alice');

    const listed = await entries(alice);
    expect(listed.map((e) => [e.group.id, e.role]).sort()).toEqual([[owned, 0], [joined, 1]].sort());
    expect(listed.find((e) => e.group.id === owned)).toEqual({
      role: 0,
      displayName: '',
      group: {
        id: owned,
        name: 'Alice owns',
        portraitUri: '',
        creatorId: alice,
        memberCount: 2,
        maxMemberCount: 500,
        isMute: 0,
        certiStatus: 1,
        memberProtection: 0,
      },
    });
  });

  it('leaves out dismissed groups', async () => {
    const alice = uniqueUserId('alice');
    const kept = await createGroup(alice, [uniqueUserId('bob')]);
    const gone = await createGroup(alice, [uniqueUserId('bob')]);
    await patch(keys.group(gone), { status: 'dismissed', deletedAt: new Date().toISOString() });
    expect((await entries(alice)).map((e) => e.group.id)).toEqual([kept]);
  });
});
