import { describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { api } from '#tests/helpers/endpoints.ts';
import { eventsFor, groupItem, memberItem, partitionItems, patch, profileItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { dismiss, groupWith, makeManagers, ownersOf, snapshot } from './departures-helpers.ts';

const done = (reply: { status: number; body: unknown }) => {
  expect(reply.status).toBe(200);
  expect(reply.body).toEqual({ code: 200 });
};

describe('POST /group/quit', () => {
  describe('a plain member or a manager', () => {
    it('leaves: member item gone, exact counts, an exit record (reason 2, no operator), MemberQuit', async () => {
      const { id, owner, others } = await groupWith(2);
      const [bob] = others as [string];
      done(await api.quit(bob, { groupId: id }));

      expect(await memberItem(id, bob)).toBeUndefined();
      expect((await groupItem(id))?.memberCount).toBe(2);
      expect((await groupItem(id))?.creatorId).toBe(owner);
      expect((await profileItem(bob))?.groupCount).toBe(0);
      expect((await profileItem(owner))?.groupCount).toBe(1);
      const exits = await partitionItems(id, 'EXITED#');
      expect(exits).toHaveLength(1);
      expect(exits[0]).toMatchObject({
        quitUserId: bob,
        quitNickname: `Nick ${bob}`,
        quitPortraitUri: `https://img.example/${bob}.png`,
        quitReason: 2,
        operatorId: null,
        operatorName: null,
      });
      const events = await eventsFor(id);
      expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'MemberQuit']);
      expect(events[1]?.detail).toEqual({ groupId: id, userId: bob, newOwnerId: null, timestamp: expect.any(Number) });
      expect((await api.userGroups(bob)).body.result).toEqual([]);
    });

    it('a manager leaves the group\'s managers too', async () => {
      const { id, others } = await groupWith(3);
      const [m1, m2] = others as [string, string];
      await makeManagers(id, m1, m2);
      done(await api.quit(m1, { groupId: id }));
      expect((await groupItem(id))?.managerIds).toEqual([m2]);
      expect((await groupItem(id))?.memberCount).toBe(3);
    });
  });

  describe('the owner', () => {
    it('hands the group to the longest-standing member in the same transaction', async () => {
      const { id, owner, others } = await groupWith(3);
      const [bob, carol, dave] = others as [string, string, string];
      const t = Date.now();
      await patch(keys.member(id, bob), { timestamp: t + 30 });
      await patch(keys.member(id, carol), { timestamp: t - 1000 });
      await patch(keys.member(id, dave), { timestamp: t + 10 });
      done(await api.quit(owner, { groupId: id }));

      expect(await ownersOf(id)).toEqual({ creatorId: carol, roleZero: [carol], managers: [] });
      expect(await memberItem(id, owner)).toBeUndefined();
      expect((await groupItem(id))?.memberCount).toBe(3);
      expect((await profileItem(owner))?.groupCount).toBe(0);
      expect((await partitionItems(id, 'EXITED#'))[0]).toMatchObject({ quitUserId: owner, quitReason: 2, operatorId: null });
      const events = await eventsFor(id);
      expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'MemberQuit']);
      expect(events[1]?.detail).toMatchObject({ groupId: id, userId: owner, newOwnerId: carol });
      // The new owner can act as one.
      done(await api.kick(carol, { groupId: id, memberIds: [bob] }));
    });

    it('breaks a tie of join times by user id, and takes a manager successor out of the managers', async () => {
      const { id, owner, others } = await groupWith(3);
      const sorted = [...others].sort();
      const [first, second] = sorted as [string, string];
      const t = Date.now() - 5000;
      await Promise.all(others.map((u) => patch(keys.member(id, u), { timestamp: t })));
      await makeManagers(id, first, second);
      done(await api.quit(owner, { groupId: id }));

      expect(await ownersOf(id)).toEqual({ creatorId: first, roleZero: [first], managers: [second] });
      expect((await groupItem(id))?.managerIds).toEqual([second]);
    });

    it('as the last member dismisses the group: count 0, deletedAt, MemberQuit then GroupDismissed', async () => {
      const { id, owner, others } = await groupWith(1);
      const [bob] = others as [string];
      done(await api.quit(bob, { groupId: id }));
      done(await api.quit(owner, { groupId: id }));

      const group = await groupItem(id);
      expect(group).toMatchObject({ status: 'dismissed', memberCount: 0, creatorId: owner });
      expect(typeof group?.deletedAt).toBe('string');
      expect(new Date(group?.deletedAt as string).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(await partitionItems(id, 'MEMBER#')).toHaveLength(0);
      expect((await profileItem(owner))?.groupCount).toBe(0);
      expect(await partitionItems(id, 'EXITED#')).toHaveLength(2);

      const events = await eventsFor(id);
      expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'MemberQuit', 'MemberQuit', 'GroupDismissed']);
      expect(events[2]?.detail).toMatchObject({ userId: owner, newOwnerId: null });
      expect(events[3]?.detail).toEqual({ groupId: id, operatorId: owner, whitelistIds: [owner], timestamp: expect.any(Number) });

      // GET still shows it, dismissed; every later change is refused.
      expect((await api.get(owner, id)).body.result).toMatchObject({ memberCount: 0, deletedAt: group?.deletedAt });
      expect((await api.quit(owner, { groupId: id })).status).toBe(404);
    });
  });

  describe('refusals (nothing written)', () => {
    it('answers 403 to a non-member', async () => {
      const { id, owner, others } = await groupWith(1);
      const before = await snapshot(id, [owner, ...others]);
      const reply = await api.quit(uniqueUserId('stranger'), { groupId: id });
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual({ code: 403, message: 'Current user is not group member.' });
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
    });

    it('answers 404 for unknown, impossible and dismissed groups', async () => {
      const { id, owner, others } = await groupWith(1);
      await dismiss(id);
      const before = await snapshot(id, [owner, ...others]);
      for (const caller of [owner, others[0] as string]) {
        for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
          const reply = await api.quit(caller, { groupId });
          expect(reply.status, groupId).toBe(404);
          expect(reply.body).toEqual({ code: 404, message: 'Unknown group.' });
        }
      }
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
    });

    it.each([
      [{}, 'groupId: required'],
      [{ groupId: null }, 'groupId: required'],
      [{ groupId: '' }, 'groupId: expected a non-empty group id'],
      [{ groupId: 7 }, 'groupId: expected a non-empty group id'],
    ])('rejects %j with a 400 naming the field', async (body, message) => {
      const reply = await api.quit(uniqueUserId('u'), body);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ code: 400, message });
    });
  });

  describe('under concurrency', () => {
    it('of plain members quitting at once keeps memberCount exact', async () => {
      const { id, owner, others } = await groupWith(12);
      const leavers = others.slice(0, 10);
      const replies = await Promise.all(leavers.map((u) => api.quit(u, { groupId: id })));
      expect(replies.map((r) => r.status)).toEqual(leavers.map(() => 200));
      expect((await groupItem(id))?.memberCount).toBe(3);
      expect(await partitionItems(id, 'MEMBER#')).toHaveLength(3);
      expect(await partitionItems(id, 'EXITED#')).toHaveLength(10);
      expect((await ownersOf(id)).roleZero).toEqual([owner]);
    });

    it('of every member quitting at once (the owner too) ends exact, with one owner at every step and the last one dismissing', async () => {
      for (let round = 0; round < 2; round++) {
        const { id, owner, others } = await groupWith(5);
        await makeManagers(id, others[0] as string);
        const everyone = [owner, ...others];
        const replies = await Promise.all(everyone.map((u) => api.quit(u, { groupId: id })));
        expect(replies.map((r) => r.body)).toEqual(everyone.map(() => ({ code: 200 })));

        const group = await groupItem(id);
        expect(group).toMatchObject({ status: 'dismissed', memberCount: 0, managerIds: [] });
        expect(await partitionItems(id, 'MEMBER#')).toHaveLength(0);
        expect(await partitionItems(id, 'EXITED#')).toHaveLength(6);
        for (const u of everyone) expect((await profileItem(u))?.groupCount).toBe(0);

        const events = await eventsFor(id);
        expect(events.filter((e) => e.detailType === 'MemberQuit')).toHaveLength(6);
        expect(events.filter((e) => e.detailType === 'GroupDismissed')).toHaveLength(1);
        expect(events.at(-1)?.detailType).toBe('GroupDismissed');
        // Every hand-over named someone who was still a member then: that new owner quit later.
        const quits = events.filter((e) => e.detailType === 'MemberQuit').map((e) => e.detail);
        quits.forEach((q, i) => {
          if (q.newOwnerId) expect(quits.findIndex((later) => later.userId === q.newOwnerId)).toBeGreaterThan(i);
        });
      }
    });

    it('of the owner quitting while the chosen successor quits: ownership lands on a remaining member', async () => {
      const { id, owner, others } = await groupWith(3);
      const [first, second, third] = others as [string, string, string];
      const t = Date.now();
      await patch(keys.member(id, first), { timestamp: t - 3000 });
      await patch(keys.member(id, second), { timestamp: t - 2000 });
      await patch(keys.member(id, third), { timestamp: t - 1000 });
      const replies = await Promise.all([api.quit(owner, { groupId: id }), api.quit(first, { groupId: id })]);
      expect(replies.map((r) => r.status)).toEqual([200, 200]);

      const owners = await ownersOf(id);
      expect(owners.roleZero).toHaveLength(1);
      expect(owners.creatorId).toBe(owners.roleZero[0]);
      expect([second, third]).toContain(owners.creatorId);
      expect((await groupItem(id))?.memberCount).toBe(2);
    });
  });
});
