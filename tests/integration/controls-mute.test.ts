import { describe, expect, it } from 'vitest';
import { deps } from '#lib/app.ts';
import { muteAll } from '#lib/domain/controls.ts';
import { Forbidden, InvalidInput } from '#lib/domain/errors.ts';
import type { Deps } from '#lib/domain/ports.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, groupItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { handler as cleanup } from '#functions/group-cleanup.ts';
import { busEventOf, dismissLocally, expectDenied, ok, stateOf, users } from './controls-helpers.ts';

/** A group of owner, manager (a real manager, by set_manager), bob, carol. */
const groupWithManager = async () => {
  const [owner, manager, bob, carol] = users('owner', 'manager', 'bob', 'carol');
  const id = await createGroup(owner, [manager, bob, carol]);
  ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
  return { id, owner, manager, bob, carol };
};

/** The app's deps, where `change` runs once right after the first snapshot read (before the commit). */
const withChangeAfterRead = (change: () => Promise<void>): Deps => {
  let pending = true;
  return {
    ...deps,
    controls: {
      ...deps.controls,
      snapshot: async (groupId, userIds) => {
        const read = await deps.controls.snapshot(groupId, userIds);
        if (pending) {
          pending = false;
          await change();
        }
        return read;
      },
    },
  };
};

const muteEvents = async (groupId: string) => (await eventsFor(groupId)).filter((e) => e.detailType === 'GroupMuteChanged').map((e) => e.detail);

describe('POST /group/mute_all', () => {
  it('lets the owner mute with speakers: isMute 1, the named members stored, owner + managers + them in the event', async () => {
    const { id, owner, manager, bob } = await groupWithManager();
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob] }));

    expect(await groupItem(id)).toMatchObject({ isMute: 1, muteWhitelist: [bob] });
    expect((await api.get(bob, id)).body.result).toMatchObject({ isMute: 1 });
    expect(await muteEvents(id)).toEqual([
      { groupId: id, operatorId: owner, muteStatus: 1, whitelistIds: [owner, manager, bob], timestamp: expect.any(Number) },
    ]);
  });

  it('lets a manager mute, naming one speaker as a single string (as Android sends)', async () => {
    const { id, owner, manager, carol } = await groupWithManager();
    ok(await api.muteAll(manager, { groupId: id, muteStatus: 1, userId: carol }));
    expect(await groupItem(id)).toMatchObject({ isMute: 1, muteWhitelist: [carol] });
    expect((await muteEvents(id))[0]).toMatchObject({ operatorId: manager, muteStatus: 1, whitelistIds: [owner, manager, carol] });
  });

  it('mutes without speakers (as iOS sends): only the owner and managers may speak; "1" is accepted as 1', async () => {
    const { id, owner, manager } = await groupWithManager();
    ok(await api.muteAll(owner, { groupId: id, muteStatus: '1' }));
    expect(await groupItem(id)).toMatchObject({ isMute: 1, muteWhitelist: [] });
    expect((await muteEvents(id))[0]).toMatchObject({ muteStatus: 1, whitelistIds: [owner, manager] });
  });

  it('stores each speaker once, and the owner or a manager named is not repeated in the event', async () => {
    const { id, owner, manager, bob } = await groupWithManager();
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob, manager, bob, owner] }));
    expect(await groupItem(id)).toMatchObject({ muteWhitelist: [bob, manager, owner] });
    expect((await muteEvents(id))[0]?.whitelistIds).toEqual([owner, manager, bob]);
  });

  it('unmutes: isMute 0, whitelist emptied, the event names everyone it allowed (owner, managers, previous speakers)', async () => {
    const { id, owner, manager, bob, carol } = await groupWithManager();
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob, carol] }));
    // `userId` means nothing on unmute (the reference ignores it).
    ok(await api.muteAll(manager, { groupId: id, muteStatus: 0, userId: [uniqueUserId('stranger')] }));

    expect(await groupItem(id)).toMatchObject({ isMute: 0, muteWhitelist: [] });
    expect((await muteEvents(id))[1]).toEqual({
      groupId: id,
      operatorId: manager,
      muteStatus: 0,
      whitelistIds: [owner, manager, bob, carol],
      timestamp: expect.any(Number),
    });
  });

  it('re-muting replaces the stored speakers', async () => {
    const { id, owner, bob, carol } = await groupWithManager();
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob] }));
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [carol] }));
    expect(await groupItem(id)).toMatchObject({ isMute: 1, muteWhitelist: [carol] });
  });

  it('keeps the whitelist of later manager changes right: a new manager is privileged, the stored speakers stay', async () => {
    const { id, owner, manager, bob, carol } = await groupWithManager();
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob] }));
    ok(await api.setManager(owner, { groupId: id, memberIds: [carol] }));
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 0 }));
    expect((await muteEvents(id))[1]?.whitelistIds).toEqual([owner, manager, carol, bob]);
  });

  it('refuses a plain member and a non-member with 403, changing nothing', async () => {
    const { id, bob } = await groupWithManager();
    const before = await stateOf(id);
    expectDenied(await api.muteAll(bob, { groupId: id, muteStatus: 1 }), 403, 'Current user is not group manager.');
    expectDenied(await api.muteAll(uniqueUserId('stranger'), { groupId: id, muteStatus: 1 }), 403, 'Current user is not group member.');
    expect(await stateOf(id)).toEqual(before);
  });

  it('refuses speakers who are not members with a 400 naming the first, changing nothing', async () => {
    const { id, owner, bob } = await groupWithManager();
    const stranger = uniqueUserId('stranger');
    const before = await stateOf(id);
    expectDenied(
      await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob, stranger] }),
      400,
      `userId[1]: ${stranger} is not a member of the group.`,
    );
    expectDenied(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: stranger }), 400, `userId: ${stranger} is not a member of the group.`);
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 for unknown, impossible and dismissed groups, changing nothing', async () => {
    const { id, owner } = await groupWithManager();
    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.muteAll(owner, { groupId, muteStatus: 1 }), 404, 'Unknown group.');
      expectDenied(await api.muteAll(owner, { groupId, muteStatus: 0 }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ muteStatus: 1 }, 'groupId: required'],
    [{ groupId: '', muteStatus: 1 }, 'groupId: expected a non-empty group id'],
    [{ groupId: 'abc' }, 'muteStatus: required'],
    [{ groupId: 'abc', muteStatus: null }, 'muteStatus: required'],
    [{ groupId: 'abc', muteStatus: 2 }, 'muteStatus: expected 0 or 1'],
    [{ groupId: 'abc', muteStatus: 'yes' }, 'muteStatus: expected 0 or 1'],
    [{ groupId: 'abc', muteStatus: true }, 'muteStatus: expected 0 or 1'],
    [{ groupId: 'abc', muteStatus: 1, userId: '' }, 'userId: expected a non-empty user id'],
    [{ groupId: 'abc', muteStatus: 1, userId: null }, 'userId: expected a user id or an array of user ids'],
    [{ groupId: 'abc', muteStatus: 1, userId: 7 }, 'userId: expected a user id or an array of user ids'],
    [{ groupId: 'abc', muteStatus: 1, userId: ['ok', ''] }, 'userId[1]: expected a non-empty user id'],
    [{ groupId: 'abc', muteStatus: 1, userId: Array.from({ length: 91 }, (_, i) => `u${i}`) }, 'userId: expected at most 90 user ids'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.muteAll(uniqueUserId('owner'), body), 400, message);
  });

  it('decides again when a speaker is kicked between its read and its commit: refused with 400, nothing stored', async () => {
    const { id, owner, manager, bob } = await groupWithManager();
    const interleaved = withChangeAfterRead(() => api.kick(owner, { groupId: id, memberIds: [bob] }).then(ok));
    await expect(muteAll(interleaved, manager, { groupId: id, muteStatus: 1, userId: [bob] })).rejects.toThrow(
      new InvalidInput(`userId[0]: ${bob} is not a member of the group.`),
    );
    expect(await groupItem(id)).toMatchObject({ isMute: 0, muteWhitelist: [] });
    expect(await muteEvents(id)).toEqual([]);
  });

  it('decides again when the caller is demoted between its read and its commit: refused with 403, nothing stored', async () => {
    const { id, owner, manager } = await groupWithManager();
    const interleaved = withChangeAfterRead(() => api.removeManager(owner, { groupId: id, memberIds: [manager] }).then(ok));
    await expect(muteAll(interleaved, manager, { groupId: id, muteStatus: 1 })).rejects.toThrow(new Forbidden('Current user is not group manager.'));
    expect(await groupItem(id)).toMatchObject({ isMute: 0 });
    expect(await muteEvents(id)).toEqual([]);
  });

  it('names the managers of the moment: a manager appointed between the read and the commit is in the event', async () => {
    const { id, owner, manager, carol } = await groupWithManager();
    const interleaved = withChangeAfterRead(() => api.setManager(owner, { groupId: id, memberIds: [carol] }).then(ok));
    await muteAll(interleaved, owner, { groupId: id, muteStatus: 1 });
    expect((await muteEvents(id))[0]?.whitelistIds).toEqual([owner, manager, carol]);
  });

  it('on the real engine, a mute racing a kick of its speaker or a demotion of its caller ends consistent', async () => {
    for (let round = 0; round < 3; round++) {
      const { id, owner, manager, bob } = await groupWithManager();
      const [mute, kick, demote] = await Promise.all([
        api.muteAll(manager, { groupId: id, muteStatus: 1, userId: [bob] }),
        api.kick(owner, { groupId: id, memberIds: [bob] }),
        api.removeManager(owner, { groupId: id, memberIds: [manager] }),
      ]);
      ok(kick);
      ok(demote);
      const muted = await muteEvents(id);
      if (mute.status === 200) {
        expect(muted).toEqual([expect.objectContaining({ muteStatus: 1, whitelistIds: [owner, manager, bob] })]);
        expect(await groupItem(id)).toMatchObject({ isMute: 1, managerIds: [] });
      } else {
        expect([400, 403]).toContain(mute.status);
        expect(muted).toEqual([]);
        expect(await groupItem(id)).toMatchObject({ isMute: 0, muteWhitelist: [] });
      }
    }
  });

  it('of concurrent mutes and unmutes, each event names exactly the whitelist its own commit replaced', async () => {
    const { id, owner, manager, bob, carol } = await groupWithManager();
    const replies = await Promise.all([
      api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob] }),
      api.muteAll(manager, { groupId: id, muteStatus: 1, userId: [carol] }),
      api.muteAll(owner, { groupId: id, muteStatus: 0 }),
      api.muteAll(manager, { groupId: id, muteStatus: 0 }),
    ]);
    replies.forEach(ok);
    // Replayed in commit order, every event names what the commit before it stored (so IM can
    // revoke it); a mute also names its own speaker (each request here names one, bob or carol).
    // The outbox orders events by decision time, not commit time: a mute decided first may commit
    // after an unmute that left the state it read unchanged (its guards still hold). So: some order
    // of the four events replays exactly and ends in the stored whitelist.
    const replay = (events: Record<string, unknown>[]): string[] | null => {
      let stored: string[] = [];
      for (const e of events) {
        const named = e.whitelistIds as string[];
        if (e.muteStatus === 1) {
          if (![owner, manager, ...stored].every((u) => named.includes(u))) return null;
          stored = named.filter((u) => u !== owner && u !== manager && !stored.includes(u));
          if (stored.length !== 1) return null;
        } else {
          if (JSON.stringify(named) !== JSON.stringify([owner, manager, ...stored])) return null;
          stored = [];
        }
      }
      return stored;
    };
    const orders = <T>(xs: T[]): T[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => orders([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest])));
    const events = await muteEvents(id);
    expect(events).toHaveLength(4);
    const final = (await groupItem(id))?.muteWhitelist;
    const valid = orders(events).filter((order) => JSON.stringify(replay(order)) === JSON.stringify(final));
    expect(valid.length, JSON.stringify({ events, final })).toBeGreaterThan(0);
  });
});

describe('named speakers follow membership (group-cleanup consumer)', () => {
  it('takes a kicked or quitting speaker out of the mute whitelist, and keeps those who stayed or came back', async () => {
    const [owner, bob, carol, dave] = users('owner', 'bob', 'carol', 'dave');
    const id = await createGroup(owner, [bob, carol, dave]);
    ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [bob, carol, dave] }));
    ok(await api.kick(owner, { groupId: id, memberIds: [bob] }));
    ok(await api.quit(carol, { groupId: id }));
    ok(await api.kick(owner, { groupId: id, memberIds: [dave] }));
    expect((await api.add(owner, { groupId: id, memberIds: [dave] })).body).toEqual({ code: 200, result: [{ id: dave, status: 1 }] });

    await cleanup(await busEventOf(id, 'MembersKicked'));
    await cleanup(await busEventOf(id, 'MemberQuit'));
    await cleanup(await busEventOf(id, 'MembersKicked', 1));
    // Bob and Carol left; Dave is a member again, and keeps his place.
    expect((await groupItem(id))?.muteWhitelist).toEqual([dave]);
    // A redelivery changes nothing.
    await cleanup(await busEventOf(id, 'MembersKicked'));
    expect((await groupItem(id))?.muteWhitelist).toEqual([dave]);
  });
});
