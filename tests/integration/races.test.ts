import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { handler as cleanup } from '#functions/group-cleanup.ts';
import { deps } from '#lib/app.ts';
import { joinGroup } from '#lib/domain/invitations.ts';
import type { Deps } from '#lib/domain/ports.ts';
import { EVENT_SOURCE } from '#lib/events/index.ts';
import { keys } from '#lib/store/keys.ts';
import { ok, users } from '#tests/helpers/checks.ts';
import { getItem, groupItem, memberItem, patch, profileItem } from '#tests/helpers/db.ts';
import { api, createGroup, type Reply } from '#tests/helpers/endpoints.ts';
import {
  added,
  ANSWERED,
  denied,
  eventsOf,
  exact,
  EXISTS,
  expectCounts,
  expectOneOf,
  FULL,
  itemsOf,
  JOINED,
  joinedIds,
  OK,
  ofType,
  REQUESTED,
  retried,
  sorted,
  TRY_AGAIN,
  UNKNOWN,
  won,
  type Answer,
} from './races-helpers.ts';

/**
 * Races on the membership invariants (issue 10, "Proof"): every test fires the conflicting requests
 * at once through the real handlers, then reads the outcome straight from the table. Whatever the
 * interleaving: counts are exact (memberCount = member items ≤ maxMemberCount, each user's group
 * count = their memberships), a group has exactly one owner, a notice is decided once, every
 * committed change has exactly one event and a refused one none, and every loser gets a documented
 * 4xx (or the 405 "try again"), never a 500. Races already proven elsewhere are listed in
 * docs/invariants.md and not repeated here.
 */

/** The group's GroupDismissed as a bus rule delivers it to the cleanup consumer (each call a delivery of its own). */
const dismissedEvent = async (groupId: string) => {
  const event = (await eventsOf(groupId)).find((e) => e.detailType === 'GroupDismissed');
  if (!event) throw new Error(`no GroupDismissed for ${groupId}`);
  const id = users('delivery')[0];
  return {
    version: '0',
    id,
    'detail-type': 'GroupDismissed',
    source: EVENT_SOURCE,
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { ...event.detail, eventId: id },
  };
};
const exitsOf = (groupId: string, userId: string) => itemsOf(groupId, `EXITED#${userId}`);
const notice = (groupId: string, type: 1 | 2, receiverId: string) => getItem(keys.notice(groupId, type, receiverId));

const certify = (groupId: string, on: boolean) => patch(keys.group(groupId), { certiStatus: on ? 0 : 1 });
/** `inviter` invites `userId` (who asked to be asked first): a waiting type-1 notice. */
const invite = async (inviter: string, groupId: string, userId: string) => {
  await patch(keys.profile(userId), { userId, kind: 'profile', groupVerify: 0 });
  expectOneOf(await api.add(inviter, { groupId, memberIds: [userId] }), [200, { code: 200, result: [{ id: userId, status: 3 }] }]);
  await patch(keys.profile(userId), { groupVerify: 1 });
};
/** `userId` asks to join while certification is on: a waiting type-2 notice (certification is then as it was). */
const request = async (groupId: string, userId: string) => {
  const was = (await groupItem(groupId))?.certiStatus;
  await certify(groupId, true);
  expectOneOf(await api.join(userId, { groupId }), REQUESTED);
  await patch(keys.group(groupId), { certiStatus: was });
};
const withMaxUserGroups = async (max: number, run: () => Promise<void>) => {
  const saved = deps.limits.maxUserGroups;
  deps.limits.maxUserGroups = max;
  try {
    await run();
  } finally {
    deps.limits.maxUserGroups = saved;
  }
};

describe('seats', () => {
  it('add, join, agree (an invitation and join requests) and a kick racing for the last seats: never above the maximum, every count exact', async () => {
    for (let round = 0; round < 2; round++) {
      const [owner, manager, plain, a1, a2, a3, j1, j2, j3, r1, r2, i1] = users('owner', 'manager', 'plain', 'a1', 'a2', 'a3', 'j1', 'j2', 'j3', 'r1', 'r2', 'i1');
      const id = await createGroup(owner, [manager, plain]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      await invite(owner, id, i1);
      await request(id, r1);
      await request(id, r2);
      await patch(keys.group(id), { maxMemberCount: 6 });

      const bids = [
        { seats: [a1], win: added(a1), send: () => api.add(owner, { groupId: id, memberIds: [a1] }) },
        { seats: [a2, a3], win: added(a2, a3), send: () => api.add(manager, { groupId: id, memberIds: [a2, a3] }) },
        ...[j1, j2, j3].map((j) => ({ seats: [j], win: JOINED, send: () => api.join(j, { groupId: id }) })),
        { seats: [r1], win: OK, send: () => api.agree(owner, { groupId: id, receiverId: r1, status: 1 }) },
        { seats: [r2], win: OK, send: () => api.agree(manager, { groupId: id, receiverId: r2, status: 1 }) },
        { seats: [i1], win: OK, send: () => api.agree(i1, { groupId: id, receiverId: i1, status: 1 }) },
      ];
      const [kick, ...replies] = await Promise.all([api.kick(owner, { groupId: id, memberIds: [plain] }), ...bids.map((b) => b.send())]);

      expectOneOf(kick, OK, TRY_AGAIN);
      bids.forEach((b, i) => expectOneOf(replies[i] as Reply, b.win, FULL(6), TRY_AGAIN));
      const admitted = bids.filter((_, i) => won(replies[i] as Reply)).flatMap((b) => b.seats);
      const { members } = await exact(id);
      expect(sorted(members)).toEqual(sorted([owner, manager, ...(won(kick) ? [] : [plain]), ...admitted]));
      // Nine seats asked for, three free and one freed: the losers were refused only for lack of room.
      if (!retried([kick, ...replies])) expect(members.size).toBeGreaterThanOrEqual(5);

      const events = await eventsOf(id);
      expect(sorted(joinedIds(events))).toEqual(sorted(admitted));
      expect(ofType(events, 'MembersKicked')).toHaveLength(won(kick) ? 1 : 0);
      expect(sorted(ofType(events, 'InvitationAnswered').map((d) => d.receiverId as string))).toEqual(sorted([r1, r2, i1].filter((u) => members.has(u))));
      // A notice whose admission found no seat is still waiting.
      for (const [u, type] of [[r1, 2], [r2, 2], [i1, 1]] as const) expect((await notice(id, type, u))?.status).toBe(members.has(u) ? 1 : 2);
      await expectCounts([owner, manager, plain, a1, a2, a3, j1, j2, j3, r1, r2, i1], [id]);
    }
  });

  it('an add larger than one transaction racing joins for the last seats: each chunk exact, one event per admission', async () => {
    const owner = users('owner')[0];
    const others = Array.from({ length: 35 }, (_, i) => `${owner}-a${String(i).padStart(2, '0')}`);
    const joiners = Array.from({ length: 10 }, (_, i) => `${owner}-j${i}`);
    const id = await createGroup(owner, [`${owner}-first`]);
    await patch(keys.group(id), { maxMemberCount: 42 });
    const [add, ...joins] = await Promise.all([api.add(owner, { groupId: id, memberIds: others }), ...joiners.map((j) => api.join(j, { groupId: id }))]);

    joins.forEach((j) => expectOneOf(j, JOINED, FULL(42), TRY_AGAIN));
    const { members } = await exact(id);
    // A chunk either admitted all its users or none, and the add answers for what it admitted: all
    // of them, or (when the joins took the seats its later chunks needed) its first chunks, in
    // order, with 200 all the same; a refusal only when it admitted nobody.
    const byAdd = others.filter((u) => members.has(u));
    expect(byAdd).toEqual(others.slice(0, byAdd.length));
    if (byAdd.length > 0) expectOneOf(add, added(...byAdd));
    else expectOneOf(add, FULL(42), TRY_AGAIN);
    const events = await eventsOf(id);
    expect(sorted(joinedIds(events))).toEqual(sorted([...members].filter((u) => u !== owner && u !== `${owner}-first`)));
    expect(joinedIds(events.filter((e) => e.detail.operatorId === owner))).toEqual(byAdd);
    for (const [i, j] of joiners.entries()) expect(members.has(j)).toBe(won(joins[i] as Reply));
    await expectCounts([...others, ...joiners], [id]);
  });

  it("the user group limit: add, join, two agrees and two creates in six groups race for one user's last slot", async () => {
    await withMaxUserGroups(3, async () => {
      for (let round = 0; round < 2; round++) {
        const [u, o1, o2, o3, o4, o5, o6, o7, y, z] = users('u', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'y', 'z');
        const home = [await createGroup(o1, [u]), await createGroup(o2, [u])];
        const [byAdd, byJoin, byInvite, byRequest] = await Promise.all([o3, o4, o5, o6].map((o) => createGroup(o, [users('f')[0]])));
        await invite(o5, byInvite as string, u);
        await request(byRequest as string, u);

        const replies = await Promise.all([
          api.add(o3, { groupId: byAdd, memberIds: [u] }),
          api.join(u, { groupId: byJoin }),
          api.agree(u, { groupId: byInvite, receiverId: u, status: 1 }),
          api.agree(o6, { groupId: byRequest, receiverId: u, status: 1 }),
          api.create(o7, { name: 'With u', memberIds: [u, z] }),
          api.create(u, { name: 'By u', memberIds: [y] }),
        ]);
        const wins: (Answer | undefined)[] = [added(u), JOINED, OK, OK, undefined, undefined];
        for (const [i, reply] of replies.entries()) {
          const win = wins[i];
          if (win ? isDeepStrictEqual([reply.status, reply.body], win) : won(reply)) continue;
          if (reply.status === 405) {
            expectOneOf(reply, TRY_AGAIN);
            continue;
          }
          expect(reply.status, JSON.stringify(reply.body)).toBe(200);
          expect(reply.body).toEqual({ code: 1000, message: expect.stringMatching(/group count is out of max user group count limit \(3\)\.$/) });
        }
        const winners = replies.filter(won);
        expect(winners.length).toBeLessThanOrEqual(1);
        if (!retried(replies)) expect(winners).toHaveLength(1);
        const created = replies.slice(4).flatMap((r) => (won(r) ? [(r.body.result as { id: string }).id] : []));
        const groups = [byAdd, byJoin, byInvite, byRequest, ...created] as string[];
        const memberships = (await Promise.all(groups.map((g) => memberItem(g, u)))).filter(Boolean);
        expect(memberships).toHaveLength(winners.length);
        for (const g of groups) await exact(g);
        // The user's count is their memberships, at most the limit; a refused create wrote nothing, not even others' counts.
        await expectCounts([u, o7, z, y], [...home, ...groups]);
        expect((await profileItem(u))?.groupCount).toBeLessThanOrEqual(3);
      }
    });
  });
});

describe('one owner', () => {
  it("transfer, dismiss and the owner's quit at once: dismissed, or exactly one owner, never both", async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, a, b] = users('owner', 'a', 'b');
      const id = await createGroup(owner, [a, b]);
      const [transfer, dismiss, quit] = await Promise.all([
        api.transfer(owner, { groupId: id, userId: a }),
        api.dismiss(owner, { groupId: id }),
        api.quit(owner, { groupId: id }),
      ]);
      expectOneOf(transfer, OK, denied(400, 'Current user is not group creator.'), UNKNOWN, TRY_AGAIN);
      expectOneOf(dismiss, OK, denied(400, 'Unknown group or not creator.'), TRY_AGAIN);
      expectOneOf(quit, OK, UNKNOWN, TRY_AGAIN);
      const { group, members } = await exact(id);
      const events = await eventsOf(id);
      expect(ofType(events, 'GroupDismissed')).toHaveLength(won(dismiss) ? 1 : 0);
      expect(ofType(events, 'OwnerTransferred')).toHaveLength(won(transfer) ? 1 : 0);
      expect(ofType(events, 'MemberQuit')).toHaveLength(won(quit) ? 1 : 0);
      if (won(dismiss)) {
        expect(group.status).toBe('dismissed');
        expect([transfer, quit].filter(won)).toEqual([]);
        expect(ofType(events, 'GroupDismissed')[0]).toMatchObject({ operatorId: owner, whitelistIds: [owner] });
        continue;
      }
      expect(group.status).toBe('active');
      if (won(transfer)) expect(group.creatorId).toBe(a);
      if (won(quit)) {
        expect(members.has(owner)).toBe(false);
        // Handed over by the quit itself, or already by the transfer (then the old owner left as a plain member).
        expect(ofType(events, 'MemberQuit')[0]?.newOwnerId).toBe(won(transfer) ? null : group.creatorId);
      }
      if (![transfer, quit].some(won)) expect(group.creatorId).toBe(owner);
    }
  });

  it('a transfer racing a kick of the new owner (by the owner or a manager): one of them, never an owner kicked', async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, manager, target] = users('owner', 'manager', 'target');
      const id = await createGroup(owner, [manager, target]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      const [transfer, kick] = await Promise.all([
        api.transfer(owner, { groupId: id, userId: target }),
        api.kick(round % 2 === 0 ? owner : manager, { groupId: id, memberIds: [target] }),
      ]);
      expectOneOf(transfer, OK, denied(400, 'Invalid groupId or userId.'), TRY_AGAIN);
      expectOneOf(kick, OK, denied(405, 'Can not kick the host.'), TRY_AGAIN);
      expect(won(transfer) && won(kick)).toBe(false);
      const { group, members } = await exact(id);
      expect(group.creatorId).toBe(won(transfer) ? target : owner);
      expect(members.has(target)).toBe(!won(kick));
      expect(await exitsOf(id, target)).toHaveLength(won(kick) ? 1 : 0);
      const events = await eventsOf(id);
      expect(ofType(events, 'OwnerTransferred')).toHaveLength(won(transfer) ? 1 : 0);
      expect(ofType(events, 'MembersKicked')).toHaveLength(won(kick) ? 1 : 0);
      await expectCounts([owner, manager, target], [id]);
    }
  });

  it("a transfer racing the new owner's own quit (a plain member or a manager): one owner, who is a member", async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, target, b] = users('owner', 'target', 'b');
      const id = await createGroup(owner, [target, b]);
      if (round % 2 === 1) ok(await api.setManager(owner, { groupId: id, memberIds: [target] }));
      const [transfer, quit] = await Promise.all([api.transfer(owner, { groupId: id, userId: target }), api.quit(target, { groupId: id })]);
      expectOneOf(transfer, OK, denied(400, 'Invalid groupId or userId.'), TRY_AGAIN);
      expectOneOf(quit, OK, TRY_AGAIN);
      const { group, members } = await exact(id);
      if (won(quit)) expect(members.has(target)).toBe(false);
      if (won(transfer) || won(quit)) expect(group.managerIds).toEqual([]);
      const events = await eventsOf(id);
      expect(ofType(events, 'OwnerTransferred')).toHaveLength(won(transfer) ? 1 : 0);
      if (won(transfer) && won(quit)) {
        // The target was the owner when they quit: they handed over to the longest-standing member.
        expect(ofType(events, 'MemberQuit')[0]?.newOwnerId).toBe(group.creatorId);
        expect([owner, b]).toContain(group.creatorId);
      } else {
        expect(group.creatorId).toBe(won(transfer) ? target : owner);
        if (won(quit)) expect(ofType(events, 'MemberQuit')[0]?.newOwnerId).toBeNull();
      }
    }
  });
});

describe('notices decided once', () => {
  it('an invitation agreed three times at once by the invitee, and a join request approved twice at once by one manager', async () => {
    for (let round = 0; round < 2; round++) {
      const [owner, manager, bob, shy, carol] = users('owner', 'manager', 'bob', 'shy', 'carol');
      const id = await createGroup(owner, [manager, bob]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      await invite(bob, id, shy);
      await request(id, carol);
      const replies = await Promise.all([
        ...[1, 2, 3].map(() => api.agree(shy, { groupId: id, receiverId: shy, status: 1 })),
        ...[1, 2].map(() => api.agree(manager, { groupId: id, receiverId: carol, status: 1 })),
      ]);
      replies.forEach((r) => expectOneOf(r, OK, ANSWERED, TRY_AGAIN));
      expect(replies.slice(0, 3).filter(won)).toHaveLength(1);
      expect(replies.slice(3).filter(won)).toHaveLength(1);
      const { members } = await exact(id);
      expect(members.has(shy) && members.has(carol)).toBe(true);
      const events = await eventsOf(id);
      expect(sorted(joinedIds(events))).toEqual(sorted([shy, carol]));
      expect(ofType(events, 'InvitationAnswered')).toHaveLength(2);
      await expectCounts([shy, carol], [id]);
    }
  });

  it('agree and ignore of one notice at once (by the invitee; by the owner and a manager): one decision, one event', async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, manager, shy, carol] = users('owner', 'manager', 'shy', 'carol');
      const id = await createGroup(owner, [manager]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      await invite(owner, id, shy);
      await request(id, carol);
      const replies = await Promise.all([
        api.agree(shy, { groupId: id, receiverId: shy, status: 1 }),
        api.agree(shy, { groupId: id, receiverId: shy, status: 0 }),
        api.agree(owner, { groupId: id, receiverId: carol, status: 1 }),
        api.agree(manager, { groupId: id, receiverId: carol, status: 0 }),
      ]);
      replies.forEach((r) => expectOneOf(r, OK, ANSWERED, TRY_AGAIN));
      const { members } = await exact(id);
      const answered = ofType(await eventsOf(id), 'InvitationAnswered');
      for (const [receiver, type, agree, ignore] of [[shy, 1, replies[0], replies[1]], [carol, 2, replies[2], replies[3]]] as const) {
        expect([agree, ignore].filter(won).length).toBeLessThanOrEqual(1);
        const decision = answered.filter((d) => d.receiverId === receiver);
        expect(decision).toHaveLength([agree, ignore].filter(won).length);
        expect(members.has(receiver)).toBe(won(agree));
        expect((await notice(id, type, receiver))?.status).toBe(won(agree) ? 1 : won(ignore) ? 0 : 2);
        if (decision[0]) expect(decision[0].status).toBe(won(agree) ? 1 : 0);
      }
      expect(sorted(joinedIds(await eventsOf(id)))).toEqual(sorted([shy, carol].filter((u) => members.has(u))));
      await expectCounts([shy, carol], [id]);
    }
  });

  it('agree racing clear_notice: admitted once, and the cleared notice list stays empty', async () => {
    const [owner, manager, shy, carol] = users('owner', 'manager', 'shy', 'carol');
    const id = await createGroup(owner, [manager]);
    ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
    await invite(owner, id, shy);
    await request(id, carol);
    const replies = await Promise.all([
      api.agree(manager, { groupId: id, receiverId: carol, status: 1 }),
      api.clearNotice(manager),
      api.clearNotice(owner),
      api.agree(shy, { groupId: id, receiverId: shy, status: 1 }),
      api.clearNotice(shy),
    ]);
    replies.forEach((r) => expectOneOf(r, OK));
    const { members } = await exact(id);
    expect(members.has(shy) && members.has(carol)).toBe(true);
    for (const viewer of [manager, owner, shy]) expect((await api.noticeInfo(viewer)).body).toEqual({ code: 200, result: [] });
    expect(sorted(joinedIds(await eventsOf(id)))).toEqual(sorted([shy, carol]));
  });

  it('the consent to a manager’s invitation racing their demotion or kick (certified group): admitted, or sent on for approval', async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, manager, shy] = users('owner', 'manager', 'shy');
      const id = await createGroup(owner, [manager]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      await invite(manager, id, shy);
      await certify(id, true);
      const [agree, demote] = await Promise.all([
        api.agree(shy, { groupId: id, receiverId: shy, status: 1 }),
        round % 2 === 0 ? api.removeManager(owner, { groupId: id, memberIds: [manager] }) : api.kick(owner, { groupId: id, memberIds: [manager] }),
      ]);
      expectOneOf(agree, OK, TRY_AGAIN);
      expectOneOf(demote, OK, TRY_AGAIN);
      const { members } = await exact(id);
      if (!won(agree)) {
        expect(members.has(shy)).toBe(false);
        continue;
      }
      const events = await eventsOf(id);
      expect((await notice(id, 1, shy))?.status).toBe(1);
      expect(ofType(events, 'InvitationAnswered')).toEqual([expect.objectContaining({ receiverId: shy, noticeType: 1, status: 1 })]);
      if (members.has(shy)) {
        // Consent committed while the inviter was still a manager: admitted at once, the inviter as operator.
        expect(ofType(events, 'MembersJoined')).toEqual([expect.objectContaining({ operatorId: manager, memberIds: [shy] })]);
        expect(await notice(id, 2, shy)).toBeUndefined();
      } else {
        // Consent after the inviter lost the role: a plain member's invitation, which the owner must approve.
        expect(ofType(events, 'MembersJoined')).toEqual([]);
        expect(await notice(id, 2, shy)).toMatchObject({ status: 2, requesterId: manager, viewerIds: [owner] });
        expect(ofType(events, 'GroupInvited').at(-1)).toMatchObject({ requesterId: manager, receiverIds: [shy], recipientIds: [owner], noticeType: 2 });
      }
      await expectCounts([shy], [id]);
    }
  });

  it("an invitee's agree racing their own join: admitted once, the other answer refused", async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, shy] = users('owner', 'shy');
      const id = await createGroup(owner, [users('bob')[0]]);
      await invite(owner, id, shy);
      const [agree, join] = await Promise.all([api.agree(shy, { groupId: id, receiverId: shy, status: 1 }), api.join(shy, { groupId: id })]);
      expectOneOf(agree, OK, denied(403, 'This notice has expired.'), TRY_AGAIN);
      expectOneOf(join, JOINED, EXISTS, TRY_AGAIN);
      expect(won(agree) && won(join)).toBe(false);
      const { members } = await exact(id);
      expect(members.has(shy)).toBe(won(agree) || won(join));
      expect(joinedIds(await eventsOf(id))).toEqual(members.has(shy) ? [shy] : []);
      expect((await notice(id, 1, shy))?.status).toBe(won(agree) ? 1 : won(join) ? 3 : 2);
      await expectCounts([shy], [id]);
    }
  });
});

describe('departures', () => {
  /** The app's deps, where `change` runs once right after join's first read of the notices (before its commit). */
  const afterJoinRead = (change: () => Promise<void>): Deps => {
    let pending = true;
    return {
      ...deps,
      invitations: {
        ...deps.invitations,
        notices: async (noticeKeys) => {
          const read = await deps.invitations.notices(noticeKeys);
          if (pending) {
            pending = false;
            await change();
          }
          return read;
        },
      },
    };
  };

  it("a departure landing between join's reads and its commit: re-admitted without the departure's exit record", async () => {
    for (const leave of ['kick', 'quit'] as const) {
      const [owner, bob] = users('owner', 'bob');
      const id = await createGroup(owner, [bob]);
      const depart = () => (leave === 'kick' ? api.kick(owner, { groupId: id, memberIds: [bob] }) : api.quit(bob, { groupId: id })).then(ok);
      expect(await joinGroup(afterJoinRead(depart), bob, { groupId: id })).toEqual({ status: 1 });
      const { members } = await exact(id);
      expect(members.has(bob)).toBe(true);
      expect(await exitsOf(id, bob)).toEqual([]);
      // (The outbox sorts by decision time: the join decided before the departure, it committed after.)
      expect(sorted((await eventsOf(id)).map((e) => e.detailType))).toEqual(sorted(['GroupCreated', leave === 'kick' ? 'MembersKicked' : 'MemberQuit', 'MembersJoined']));
      await expectCounts([owner, bob], [id]);
    }
  });

  it('a kick or a quit racing the member’s own join: a member has no exit record, a former member exactly one', async () => {
    for (let round = 0; round < 8; round++) {
      const [owner, bob] = users('owner', 'bob');
      const id = await createGroup(owner, [bob]);
      const [leave, join] = await Promise.all([
        round % 2 === 0 ? api.kick(owner, { groupId: id, memberIds: [bob] }) : api.quit(bob, { groupId: id }),
        api.join(bob, { groupId: id }),
      ]);
      expectOneOf(leave, OK, TRY_AGAIN);
      expectOneOf(join, JOINED, EXISTS, TRY_AGAIN);
      const { members } = await exact(id);
      expect(members.has(bob)).toBe(!won(leave) || won(join));
      expect(await exitsOf(id, bob)).toHaveLength(won(leave) && !won(join) ? 1 : 0);
      expect(joinedIds(await eventsOf(id))).toEqual(won(join) ? [bob] : []);
      await expectCounts([owner, bob], [id]);
    }
  });

  it('an add racing a kick of the same user: back as a member without an exit record, or gone with one', async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, manager, bob] = users('owner', 'manager', 'bob');
      const id = await createGroup(owner, [manager, bob]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      const [kick, add] = await Promise.all([api.kick(owner, { groupId: id, memberIds: [bob] }), api.add(manager, { groupId: id, memberIds: [bob] })]);
      expectOneOf(kick, OK, TRY_AGAIN);
      expectOneOf(add, added(bob), EXISTS, TRY_AGAIN);
      const { members } = await exact(id);
      expect(members.has(bob)).toBe(!won(kick) || won(add));
      expect(await exitsOf(id, bob)).toHaveLength(won(kick) && !won(add) ? 1 : 0);
      const events = await eventsOf(id);
      expect(joinedIds(events)).toEqual(won(add) ? [bob] : []);
      expect(ofType(events, 'MembersKicked')).toHaveLength(won(kick) ? 1 : 0);
      await expectCounts([owner, manager, bob], [id]);
    }
  });

  it("set_member_info and set_display_name racing the target's kick never leave a member item without a membership", async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, manager, bob] = users('owner', 'manager', 'bob');
      const id = await createGroup(owner, [manager, bob]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      const [kick, own, byManager, name] = await Promise.all([
        api.kick(owner, { groupId: id, memberIds: [bob] }),
        api.setMemberInfo(bob, { groupId: id, memberId: bob, region: 'north', groupNickname: 'Bobby' }),
        api.setMemberInfo(manager, { groupId: id, memberId: bob, phone: '123' }),
        api.setDisplayName(bob, { groupId: id, displayName: 'B' }),
      ]);
      expectOneOf(kick, OK, TRY_AGAIN);
      for (const info of [own, byManager]) expectOneOf(info as Reply, OK, denied(400, 'memberId: Not a group member.'), TRY_AGAIN);
      expectOneOf(name, OK, UNKNOWN, TRY_AGAIN);
      const { members } = await exact(id);
      expect(members.has(bob)).toBe(!won(kick));
      if (won(kick)) expect(await memberItem(id, bob)).toBeUndefined();
      expect(await exitsOf(id, bob)).toHaveLength(won(kick) ? 1 : 0);
      await expectCounts([owner, manager, bob], [id]);
    }
  });
});

describe('dismissal', () => {
  it('dismiss racing join, add and agree: nobody joins a dismissed group, and the cleanup releases every count exactly once', async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, manager, plain, j1, j2, a1, i1, r1] = users('owner', 'manager', 'plain', 'j1', 'j2', 'a1', 'i1', 'r1');
      const id = await createGroup(owner, [manager, plain]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      await invite(owner, id, i1);
      await request(id, r1);
      const bids = [
        { user: j1, win: JOINED, send: () => api.join(j1, { groupId: id }) },
        { user: j2, win: JOINED, send: () => api.join(j2, { groupId: id }) },
        { user: a1, win: added(a1), send: () => api.add(manager, { groupId: id, memberIds: [a1] }) },
        { user: i1, win: OK, send: () => api.agree(i1, { groupId: id, receiverId: i1, status: 1 }) },
        { user: r1, win: OK, send: () => api.agree(manager, { groupId: id, receiverId: r1, status: 1 }) },
      ];
      const [dismiss, ...replies] = await Promise.all([api.dismiss(owner, { groupId: id }), ...bids.map((b) => b.send())]);
      expectOneOf(dismiss, OK, TRY_AGAIN);
      bids.forEach((b, i) => expectOneOf(replies[i] as Reply, b.win, UNKNOWN, TRY_AGAIN));
      const admitted = bids.filter((_, i) => won(replies[i] as Reply)).map((b) => b.user);
      const everyone = [owner, manager, plain, j1, j2, a1, i1, r1];
      const { members } = await exact(id);
      expect(sorted(members)).toEqual(sorted([owner, manager, plain, ...admitted]));
      const events = await eventsOf(id);
      expect(sorted(joinedIds(events))).toEqual(sorted(admitted));
      if (!won(dismiss)) {
        await expectCounts(everyone, [id]);
        continue;
      }
      expect(ofType(events, 'GroupDismissed')).toEqual([expect.objectContaining({ operatorId: owner, whitelistIds: [owner, manager] })]);

      // Two deliveries of the dismissal at once (at least once, and concurrently): each member released once.
      await Promise.all([cleanup(await dismissedEvent(id)), cleanup(await dismissedEvent(id))]);
      expect(await itemsOf(id, 'MEMBER#')).toEqual([]);
      for (const u of everyone) expect(((await profileItem(u))?.groupCount as number | undefined) ?? 0, u).toBe(0);
      const waiting = [[i1, 1], [r1, 2]].filter(([u]) => !admitted.includes(u as string));
      for (const [u, type] of waiting) expect((await notice(id, type as 1 | 2, u as string))?.status).toBe(3);
      expect(ofType(await eventsOf(id), 'NoticesExpired')).toHaveLength(waiting.length > 0 ? 1 : 0);
    }
  });
});
