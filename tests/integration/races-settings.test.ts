import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { ok, users } from '#tests/helpers/checks.ts';
import { getItem, groupItem, patch, profileItem } from '#tests/helpers/db.ts';
import { api, createGroup, type Reply } from '#tests/helpers/endpoints.ts';
import { startTestPipeline, type TestPipeline } from '#tests/helpers/pipeline.ts';
import { denied, exact, expectCounts, expectOneOf, NOT_MANAGER, NOT_MEMBER, OK, sorted, TRY_AGAIN, UNKNOWN, won } from './races-helpers.ts';

/**
 * Races on the settings invariants (issue 10, "Proof"), with the whole event pipeline running as
 * in `npm start` (stream relay, bus, notifier and group-cleanup against a fake RongCloud), so the
 * IM side is proven too: while a group is muted, exactly its owner, its managers and the members
 * named by mute_all may speak, whatever order the changes committed and were delivered in.
 * Favourites and copies: what controls-fav.test.ts and copy.test.ts do not already race.
 */

let pipeline: TestPipeline;
beforeAll(async () => {
  pipeline = await startTestPipeline();
});
afterAll(async () => {
  await pipeline?.close();
});

/** The group's events in commit order: as the relay put them on the bus, in stream order. */
const committed = (groupId: string) =>
  pipeline.events.bus.published
    .filter((e) => (e.detail as { groupId?: string }).groupId === groupId)
    .map((e) => ({ type: e['detail-type'], detail: e.detail as Record<string, unknown> }));

const unique = (ids: string[]) => [...new Set(ids)];
const without = (ids: string[], gone: unknown[]) => ids.filter((id) => !gone.includes(id));

/**
 * Replays the group's events in commit order, checking each GroupMuteChanged against the owner,
 * managers and stored speakers its commit replaced: it names exactly them (so IM can revoke them),
 * plus, when muting, the speakers it names (`speakerOf`: whose mute named which speaker). Returns
 * the state the events lead to.
 */
const replay = (groupId: string, speakerOf: Map<string, string>) => {
  let owner = '';
  let managers: string[] = [];
  let stored: string[] = [];
  let isMute = 0;
  const mutes: string[] = [];
  for (const { type, detail } of committed(groupId)) {
    if (type === 'GroupCreated') owner = detail.operatorId as string;
    if (type === 'ManagersSet') managers.push(...(detail.memberIds as string[]));
    if (type === 'ManagersRemoved') managers = without(managers, detail.memberIds as string[]);
    if (type === 'OwnerTransferred') {
      owner = detail.newOwnerId as string;
      managers = without(managers, [owner]);
    }
    if (type !== 'GroupMuteChanged') continue;
    const named = detail.whitelistIds as string[];
    const before = unique([owner, ...managers, ...stored]);
    expect(named, 'each user once').toEqual(unique(named));
    if (detail.muteStatus === 1) {
      // Everyone the commit replaced is named; anyone else is the speaker this mute names.
      expect(named).toEqual(expect.arrayContaining(before));
      const speakers = without(named, before);
      expect(speakers.every((s) => speakerOf.get(s) === detail.operatorId), `${JSON.stringify(speakers)} named by ${String(detail.operatorId)}`).toBe(true);
      stored = speakers;
      mutes.push(...speakers);
    } else {
      expect(sorted(named)).toEqual(sorted(before));
      stored = [];
    }
    isMute = detail.muteStatus as number;
  }
  return { owner, managers, stored, isMute, mutes };
};

/** IM as the fake RongCloud holds it matches the table: banned while muted, and then exactly these speakers. */
const expectIm = async (groupId: string) => {
  const group = (await groupItem(groupId)) as Record<string, unknown>;
  const im = pipeline.fake.groups.get(groupId);
  expect(im?.banned).toBe(group.isMute === 1);
  if (group.isMute === 1) {
    const speakers = [group.creatorId as string, ...(group.managerIds as string[]), ...(group.muteWhitelist as string[])];
    expect(sorted(im?.whitelist ?? [])).toEqual(sorted(unique(speakers)));
  }
};

describe('manager changes while muted', () => {
  it('set_manager, remove_manager and a transfer racing mute_all on and off: each mute event names the whitelist of its commit, IM ends exact', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 2; round++) {
      const [owner, m1, a, b, c, s0, s1, s2] = users('owner', 'm1', 'a', 'b', 'c', 's0', 's1', 's2');
      const id = await createGroup(owner, [m1, a, b, c, s0, s1, s2]);
      // The fake keeps mute state only for groups it created (RongCloud keeps it by group id).
      await pipeline.settled();
      ok(await api.setManager(owner, { groupId: id, memberIds: [m1] }));
      ok(await api.muteAll(owner, { groupId: id, muteStatus: 1, userId: [s0] }));
      await pipeline.settled();
      await expectIm(id);

      const NO_PERMISSION = denied(401, 'No permission to set up an manager.');
      const mutes = [
        { send: () => api.muteAll(owner, { groupId: id, muteStatus: 0 }) },
        { send: () => api.muteAll(m1, { groupId: id, muteStatus: 1, userId: [s1] }) },
        { send: () => api.muteAll(owner, { groupId: id, muteStatus: 1, userId: s2 }) },
        { send: () => api.muteAll(m1, { groupId: id, muteStatus: 0 }) },
      ];
      const roles = [
        { type: 'ManagersSet', send: () => api.setManager(owner, { groupId: id, memberIds: [a] }) },
        { type: 'ManagersRemoved', send: () => api.removeManager(owner, { groupId: id, memberIds: [m1] }) },
        { type: 'ManagersSet', send: () => api.setManager(owner, { groupId: id, memberIds: [b] }) },
        ...(round === 1 ? [{ type: 'OwnerTransferred', send: () => api.transfer(owner, { groupId: id, userId: c }) }] : []),
      ];
      const replies = await Promise.all([...mutes, ...roles].map((r) => r.send()));
      const muteReplies = replies.slice(0, mutes.length);
      const roleReplies = replies.slice(mutes.length);
      // The owner may have handed over meanwhile, a manager been demoted: 401/403 then, as for anyone without the role.
      muteReplies.forEach((r) => expectOneOf(r, OK, NOT_MANAGER, TRY_AGAIN));
      roleReplies.forEach((r) => expectOneOf(r, OK, NO_PERMISSION, TRY_AGAIN));
      await pipeline.settled();

      const state = replay(id, new Map([[s0, owner], [s1, m1], [s2, owner]]));
      // One event per change that committed, none for the refused ones.
      const events = committed(id);
      expect(events.filter((e) => e.type === 'GroupMuteChanged')).toHaveLength(1 + muteReplies.filter(won).length);
      for (const type of ['ManagersSet', 'ManagersRemoved', 'OwnerTransferred']) {
        const wins = roles.filter((r, i) => r.type === type && won(roleReplies[i] as Reply)).length;
        expect(events.filter((e) => e.type === type)).toHaveLength(type === 'ManagersSet' ? 1 + wins : wins);
      }
      const { group } = await exact(id);
      expect({ owner: group.creatorId, managers: group.managerIds, stored: group.muteWhitelist, isMute: group.isMute }).toEqual({
        owner: state.owner,
        managers: state.managers,
        stored: state.stored,
        isMute: state.isMute,
      });
      await expectIm(id);

      // Muted once more by whoever owns the group now: only the owner and the managers of now may speak.
      ok(await api.muteAll(group.creatorId as string, { groupId: id, muteStatus: 1 }));
      await pipeline.settled();
      await expectIm(id);
      expect(pipeline.fake.groups.get(id)?.whitelist).toEqual(new Set([group.creatorId, ...(group.managerIds as string[])]));
    }
  });
  it('a demotion or a transfer racing an unmute: once muted again, the former manager or owner may not speak', { timeout: 60_000 }, async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, m1, bob] = users('owner', 'm1', 'bob');
      const id = await createGroup(owner, [m1, bob]);
      await pipeline.settled();
      ok(await api.setManager(owner, { groupId: id, memberIds: [m1] }));
      ok(await api.muteAll(owner, { groupId: id, muteStatus: 1 }));
      await pipeline.settled();
      expect(pipeline.fake.groups.get(id)?.whitelist).toEqual(new Set([owner, m1]));
      // The demoted manager's owner unmutes; the replaced owner's manager does.
      const [change, unmute] = await Promise.all(
        round % 2 === 0
          ? [api.removeManager(owner, { groupId: id, memberIds: [m1] }), api.muteAll(owner, { groupId: id, muteStatus: 0 })]
          : [api.transfer(owner, { groupId: id, userId: bob }), api.muteAll(m1, { groupId: id, muteStatus: 0 })],
      );
      ok(change);
      ok(unmute);
      // Delivered before the group is muted again (when the unmute won, the change found it unmuted).
      await pipeline.settled();
      ok(await api.muteAll(round % 2 === 0 ? owner : bob, { groupId: id, muteStatus: 1 }));
      await pipeline.settled();
      const speakers = round % 2 === 0 ? [owner] : [bob, m1];
      expect(pipeline.fake.groups.get(id)).toMatchObject({ banned: true, whitelist: new Set(speakers) });
      await expectIm(id);
    }
  });
});

describe('favourites', () => {
  it('saves and a removal at once leave the saved item and the favourites list in agreement', async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, bob] = users('owner', 'bob');
      const id = await createGroup(owner, [bob]);
      const [first, removal, second] = await Promise.all([
        api.favAdd(bob, { groupId: id }),
        api.favRemove(bob, { groupId: id }),
        api.favAdd(bob, { groupId: id }),
      ]);
      for (const save of [first, second]) expectOneOf(save, OK, denied(405, 'Group already exists.'));
      expectOneOf(removal, OK);
      expect([first, second].filter(won).length).toBeGreaterThanOrEqual(1);
      const saved = await getItem(keys.fav(bob, id));
      const list = (await api.favGroups(bob)).body.result as { list: { id: string }[]; total: number };
      expect(list.total).toBe(saved ? 1 : 0);
      expect(list.list.map((g) => g.id)).toEqual(saved ? [id] : []);
      // Both saves won only around the removal: then one of them outlived it.
      if ([first, second].every(won)) expect(saved).toBeDefined();
    }
  });

  it('saves racing the dismissal: the cleanup leaves no favourite and no membership behind', async () => {
    for (let round = 0; round < 2; round++) {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const id = await createGroup(owner, [bob, carol]);
      const [dismiss, ...saves] = await Promise.all([
        api.dismiss(owner, { groupId: id }),
        api.favAdd(bob, { groupId: id }),
        api.favAdd(owner, { groupId: id }),
        api.favAdd(carol, { groupId: id }),
      ]);
      expectOneOf(dismiss, OK, TRY_AGAIN);
      saves.forEach((s) => expectOneOf(s, OK, UNKNOWN));
      await pipeline.settled();
      if (!won(dismiss)) continue;
      for (const u of [owner, bob, carol]) {
        expect(await getItem(keys.fav(u, id)), u).toBeUndefined();
        expect((await api.favGroups(u)).body.result).toMatchObject({ list: [] });
      }
      await exact(id);
      await expectCounts([owner, bob, carol], [id]);
    }
  });
});

describe('copies', () => {
  it("a copy racing the copier's kick from the source: the copier owns the copy, or it is refused with nothing written", async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await createGroup(owner, [bob, carol]);
      await patch(keys.group(source), { createdAt: Date.now() - 8 * 24 * 3600 * 1000 });
      const [copy, kick] = await Promise.all([
        api.copyGroup(bob, { groupId: source, name: 'Copy' }),
        api.kick(owner, { groupId: source, memberIds: [bob] }),
      ]);
      expectOneOf(kick, OK, TRY_AGAIN);
      const sourceItem = (await groupItem(source)) as Record<string, unknown>;
      if (won(copy)) {
        const { id } = copy.body.result as { id: string };
        const { group, members } = await exact(id);
        expect(group.creatorId).toBe(bob);
        expect(sorted(members)).toEqual(sorted([owner, bob, carol]));
        expect(sourceItem.copiedTime).toBe(group.createdAt);
        await expectCounts([owner, bob, carol], [source, id]);
      } else {
        expectOneOf(copy, NOT_MEMBER);
        expect(sourceItem.copiedTime).toBe(0);
        expect((await api.userGroups(bob)).body.result).toEqual(won(kick) ? [] : [expect.anything()]);
        await expectCounts([owner, bob, carol], [source]);
      }
      expect(((await profileItem(bob))?.groupCount as number | undefined) ?? 0).toBe((won(kick) ? 0 : 1) + (won(copy) ? 1 : 0));
    }
  });
});
