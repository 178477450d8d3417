import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { deps } from '#lib/app.ts';
import { kickMembers, Stale } from '#lib/domain/departures.ts';
import type { Group, Member } from '#lib/domain/model.ts';
import type { Deps } from '#lib/domain/ports.ts';
import { createDocumentClient } from '#lib/store/client.ts';
import { createStore } from '#lib/store/index.ts';
import { api } from '#tests/helpers/endpoints.ts';
import { eventsFor, groupItem, memberItem, partitionItems, profileItem, tableName } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { dismiss, groupWith, makeManagers, named, ownersOf, snapshot } from './departures-helpers.ts';

const kicked = (body: unknown) => expect(body).toEqual({ code: 200 });

describe('POST /group/kick', () => {
  describe('by the owner', () => {
    it('removes the members, keeps every count exact, records each exit and a MembersKicked event', async () => {
      const { id, owner, others } = await groupWith(3);
      const [bob, carol, dave] = others as [string, string, string];
      const reply = await api.kick(owner, { groupId: id, memberIds: [bob, carol] });
      expect(reply.status).toBe(200);
      kicked(reply.body);

      expect(await memberItem(id, bob)).toBeUndefined();
      expect(await memberItem(id, carol)).toBeUndefined();
      expect(await memberItem(id, dave)).toBeDefined();
      expect((await groupItem(id))?.memberCount).toBe(2);
      expect((await profileItem(bob))?.groupCount).toBe(0);
      expect((await profileItem(carol))?.groupCount).toBe(0);
      expect((await profileItem(dave))?.groupCount).toBe(1);
      expect((await profileItem(owner))?.groupCount).toBe(1);

      const exits = await partitionItems(id, 'EXITED#');
      expect(exits).toHaveLength(2);
      expect(exits.find((e) => e.quitUserId === bob)).toMatchObject({
        quitNickname: `Nick ${bob}`,
        quitPortraitUri: `https://img.example/${bob}.png`,
        quitReason: 0,
        operatorId: owner,
        operatorName: `Nick ${owner}`,
      });

      const events = await eventsFor(id);
      expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'MembersKicked']);
      expect(events[1]?.detail).toEqual({ groupId: id, operatorId: owner, memberIds: [bob, carol], timestamp: expect.any(Number) });
      // The kicked no longer see the group; the others still do.
      expect((await api.members(bob, id)).status).toBe(403);
      expect((await api.members(dave, id)).body.result).toHaveLength(2);
    });

    it('kicks a manager and takes them out of the group\'s managers', async () => {
      const { id, owner, others } = await groupWith(3);
      const [m1, m2, bob] = others as [string, string, string];
      await makeManagers(id, m1, m2);
      kicked((await api.kick(owner, { groupId: id, memberIds: [m1, bob] })).body);

      expect(await ownersOf(id)).toEqual({ creatorId: owner, roleZero: [owner], managers: [m2] });
      expect((await groupItem(id))?.managerIds).toEqual([m2]);
      expect((await groupItem(id))?.memberCount).toBe(2);
      const reasons = (await partitionItems(id, 'EXITED#')).map((e) => e.quitReason);
      expect(reasons).toEqual([0, 0]);
    });

    it('collapses duplicate ids', async () => {
      const { id, owner, others } = await groupWith(2);
      const [bob] = others as [string];
      kicked((await api.kick(owner, { groupId: id, memberIds: [bob, bob] })).body);
      expect((await groupItem(id))?.memberCount).toBe(2);
      expect((await profileItem(bob))?.groupCount).toBe(0);
      expect((await partitionItems(id, 'EXITED#')).length).toBe(1);
      expect((await eventsFor(id))[1]?.detail.memberIds).toEqual([bob]);
    });
  });

  describe('by a manager', () => {
    it('kicks plain members, recorded as reason 1 with the manager as operator', async () => {
      const { id, owner, others } = await groupWith(2);
      const [manager, bob] = others as [string, string];
      await makeManagers(id, manager);
      kicked((await api.kick(manager, { groupId: id, memberIds: [bob] })).body);

      expect(await memberItem(id, bob)).toBeUndefined();
      expect((await groupItem(id))?.memberCount).toBe(2);
      expect((await groupItem(id))?.managerIds).toEqual([manager]);
      expect((await partitionItems(id, 'EXITED#'))[0]).toMatchObject({
        quitUserId: bob,
        quitReason: 1,
        operatorId: manager,
        operatorName: `Nick ${manager}`,
      });
      expect((await eventsFor(id))[1]?.detail).toMatchObject({ operatorId: manager, memberIds: [bob] });
      expect((await ownersOf(id)).roleZero).toEqual([owner]);
    });

    it('may not kick another manager: 403, nothing written (the plain members listed with them stay too)', async () => {
      const { id, owner, others } = await groupWith(3);
      const [m1, m2, bob] = others as [string, string, string];
      await makeManagers(id, m1, m2);
      const before = await snapshot(id, [owner, ...others]);
      const reply = await api.kick(m1, { groupId: id, memberIds: [bob, m2] });
      expect(reply.status).toBe(403);
      expect(reply.body).toEqual({ code: 403, message: 'Only the group owner can kick a manager.' });
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
    });
  });

  describe('refusals (nothing written)', () => {
    it('answers 400 when the caller lists themself, whatever their role', async () => {
      const { id, owner, others } = await groupWith(2);
      const before = await snapshot(id, [owner, ...others]);
      for (const caller of [owner, others[0] as string, uniqueUserId('stranger')]) {
        const reply = await api.kick(caller, { groupId: id, memberIds: [others[1] as string, caller] });
        expect(reply.status).toBe(400);
        expect(reply.body).toEqual({ code: 400, message: 'Can not kick yourself.' });
      }
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
    });

    it('answers 405 when the list names the owner (a manager, a plain member, a stranger)', async () => {
      const { id, owner, others } = await groupWith(3);
      const [manager, bob] = others as [string, string];
      await makeManagers(id, manager);
      const before = await snapshot(id, [owner, ...others]);
      for (const caller of [manager, bob, uniqueUserId('stranger')]) {
        const reply = await api.kick(caller, { groupId: id, memberIds: [others[2] as string, owner] });
        expect(reply.status).toBe(405);
        expect(reply.body).toEqual({ code: 405, message: 'Can not kick the host.' });
      }
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
    });

    it('answers 403 to plain members and non-members', async () => {
      const { id, owner, others } = await groupWith(2);
      const [bob, carol] = others as [string, string];
      const before = await snapshot(id, [owner, ...others]);
      for (const caller of [bob, uniqueUserId('stranger')]) {
        const reply = await api.kick(caller, { groupId: id, memberIds: [carol] });
        expect(reply.status).toBe(403);
        expect(reply.body).toEqual({ code: 403, message: 'Current user is not group manager.' });
      }
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
    });

    it('answers 400 when any listed user is not a member, wherever it is in the list', async () => {
      const { id, owner, others } = await groupWith(3);
      const [bob, carol] = others as [string, string];
      const stranger = uniqueUserId('stranger');
      const before = await snapshot(id, [owner, ...others]);
      for (const memberIds of [[stranger, bob], [bob, stranger, carol], [bob, carol, stranger]]) {
        const reply = await api.kick(owner, { groupId: id, memberIds });
        expect(reply.status).toBe(400);
        expect(reply.body).toEqual({ code: 400, message: 'Can not kick none-member from the group.' });
      }
      // More ids than other members: refused without reading them.
      const many = [bob, carol, others[2] as string, ...Array.from({ length: 20 }, () => uniqueUserId('x'))];
      expect((await api.kick(owner, { groupId: id, memberIds: many })).body).toEqual({
        code: 400,
        message: 'Can not kick none-member from the group.',
      });
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
    });

    it('answers 404 for unknown, impossible and dismissed groups', async () => {
      const { id, owner, others } = await groupWith(2);
      await dismiss(id);
      const before = await snapshot(id, [owner, ...others]);
      for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
        const reply = await api.kick(owner, { groupId, memberIds: [others[0] as string] });
        expect(reply.status, groupId).toBe(404);
        expect(reply.body).toEqual({ code: 404, message: 'Unknown group.' });
      }
      expect(await snapshot(id, [owner, ...others])).toEqual(before);
      expect(await memberItem(id, others[0] as string)).toBeDefined();
    });

    it.each([
      [{ memberIds: ['a'] }, 'groupId: required'],
      [{ groupId: '', memberIds: ['a'] }, 'groupId: expected a non-empty group id'],
      [{ groupId: 'abc' }, 'memberIds: required'],
      [{ groupId: 'abc', memberIds: null }, 'memberIds: required'],
      [{ groupId: 'abc', memberIds: [] }, 'memberIds: expected at least one user id'],
      [{ groupId: 'abc', memberIds: ['a', null] }, 'memberIds[1]: required'],
      [{ groupId: 'abc', memberIds: ['a', ''] }, 'memberIds[1]: expected a non-empty user id'],
      [{ groupId: 'abc', memberIds: 'a' }, 'memberIds: expected an array of user ids'],
    ])('rejects %j with a 400 naming the field', async (body, message) => {
      const reply = await api.kick(uniqueUserId('owner'), body);
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ code: 400, message });
    });
  });

  describe('under concurrency', () => {
    it('of a kick and a quit of the same member, exactly one succeeds: one exit record, exact counts', async () => {
      for (let round = 0; round < 3; round++) {
        const { id, owner, others } = await groupWith(2);
        const [bob] = others as [string];
        const [kick, quit] = await Promise.all([api.kick(owner, { groupId: id, memberIds: [bob] }), api.quit(bob, { groupId: id })]);
        const ok = [kick, quit].filter((r) => r.status === 200);
        expect(ok).toHaveLength(1);
        if (kick.status !== 200) expect(kick.body).toEqual({ code: 400, message: 'Can not kick none-member from the group.' });
        if (quit.status !== 200) expect(quit.body).toEqual({ code: 403, message: 'Current user is not group member.' });

        expect((await groupItem(id))?.memberCount).toBe(2);
        expect((await profileItem(bob))?.groupCount).toBe(0);
        const exits = await partitionItems(id, 'EXITED#');
        expect(exits).toHaveLength(1);
        expect(exits[0]?.quitReason).toBe(kick.status === 200 ? 0 : 2);
        const types = (await eventsFor(id)).map((e) => e.detailType);
        expect(types).toEqual(['GroupCreated', kick.status === 200 ? 'MembersKicked' : 'MemberQuit']);
      }
    });

    it('of the owner and a manager kicking the same member, exactly one succeeds', async () => {
      const { id, owner, others } = await groupWith(3);
      const [manager, bob] = others as [string, string];
      await makeManagers(id, manager);
      const replies = await Promise.all([
        api.kick(owner, { groupId: id, memberIds: [bob] }),
        api.kick(manager, { groupId: id, memberIds: [bob] }),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 400]);
      expect((await groupItem(id))?.memberCount).toBe(3);
      expect((await profileItem(bob))?.groupCount).toBe(0);
      expect(await partitionItems(id, 'EXITED#')).toHaveLength(1);
    });

    it('of kicks of disjoint members, keeps memberCount exact', async () => {
      const { id, owner, others } = await groupWith(10);
      const replies = await Promise.all(others.map((u) => api.kick(owner, { groupId: id, memberIds: [u] })));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      expect((await groupItem(id))?.memberCount).toBe(1);
      expect(await partitionItems(id, 'MEMBER#')).toHaveLength(1);
      expect(await partitionItems(id, 'EXITED#')).toHaveLength(10);
    });

    it('guards the managers it read: a plan made before a manager change is Stale and writes nothing', async () => {
      const { id, owner, others } = await groupWith(3);
      const [m1, m2] = others as [string, string];
      await makeManagers(id, m1);
      const members = await deps.departures.members(id, [m1]);
      const now = Date.now();
      const plan = {
        groupId: id,
        now,
        operator: { userId: owner, role: 0 as const },
        departures: [{
          member: members.get(m1) as Member,
          exit: { groupId: id, quitUserId: m1, quitNickname: '', quitPortraitUri: '', quitReason: 0 as const, quitTime: now, operatorId: owner, operatorName: '' },
        }],
        managerIds: [m1],
        event: null,
      };
      await makeManagers(id, m2); // the list changed since the plan's read
      await expect(deps.departures.kick(plan)).rejects.toBeInstanceOf(Stale);
      expect((await groupItem(id))?.managerIds).toEqual([m1, m2]);
      expect(await memberItem(id, m1)).toBeDefined();
      // Through the endpoint the kick decides again and lands.
      expect((await api.kick(owner, { groupId: id, memberIds: [m1] })).status).toBe(200);
      expect((await groupItem(id))?.managerIds).toEqual([m2]);
    });

    it('of the owner kicking a manager while the manager kicks a plain member: both land, managers stay consistent', async () => {
      const { id, owner, others } = await groupWith(3);
      const [manager, bob] = others as [string, string];
      await makeManagers(id, manager);
      const [a, b] = await Promise.all([
        api.kick(owner, { groupId: id, memberIds: [manager] }),
        api.kick(manager, { groupId: id, memberIds: [bob] }),
      ]);
      expect(a.status).toBe(200);
      // The manager's kick lands if it commits first; after losing the role it is a 403.
      expect([200, 403]).toContain(b.status);
      const group = await groupItem(id);
      expect(group?.managerIds).toEqual([]);
      expect(group?.memberCount).toBe(b.status === 200 ? 2 : 3);
      expect((await ownersOf(id)).managers).toEqual([]);
    });
  });

  describe('a large kick', () => {
    it('kicks 500 of a 3000-member group in at most ⌈500/33⌉ transactions, with exact counts, records and one event', async () => {
      const owner = uniqueUserId('owner');
      const others = Array.from({ length: 2999 }, (_, i) => `${owner}-m${String(i).padStart(4, '0')}`);
      const now = Date.now();
      const groupId = deps.newGroupId();
      const member = (userId: string, role: Member['role']): Member => ({
        groupId, userId, role, displayName: '', groupNickname: '', createdAt: now, updatedAt: now, timestamp: now,
      });
      const group: Group = {
        id: groupId, name: 'Huge', portraitUri: '', creatorId: owner, managerIds: [], memberCount: 3000, maxMemberCount: 3000,
        certiStatus: 1, isMute: 0, muteWhitelist: [], memberProtection: 0, clearStatus: 0, clearTimeAt: null, bulletin: null, bulletinTime: null, bulletinCount: 0,
        copiedTime: 0, status: 'active', deletedAt: null, createdAt: now, updatedAt: now, version: 1,
      };
      await deps.groups.create({ group, members: [member(owner, 0), ...others.map((u) => member(u, 1))], notices: [], events: [] }, { maxUserGroups: 500 });
      const targets = others.slice(1000, 1500);
      // Two of them are managers; one has a name to snapshot.
      await makeManagers(groupId, targets[0] as string, targets[499] as string);
      await named(owner, targets[7] as string);

      // The operation over a client that counts committed transactions.
      const client = createDocumentClient();
      const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
      let transactions = 0;
      let attempts = 0;
      (client as unknown as { send: typeof send }).send = async (command) => {
        if (command instanceof TransactWriteCommand) attempts++;
        const out = await send(command);
        if (command instanceof TransactWriteCommand) transactions++;
        return out;
      };
      const store = createStore(client, tableName());
      const counting: Deps = { ...deps, groups: store.groups, members: store.members, users: store.users, departures: store.departures };
      await kickMembers(counting, owner, { groupId, memberIds: targets });

      expect(transactions).toBeLessThanOrEqual(Math.ceil(500 / 33));
      expect(attempts).toBeGreaterThanOrEqual(transactions);
      const after = await groupItem(groupId);
      expect(after?.memberCount).toBe(2500);
      expect(after?.managerIds).toEqual([]);
      expect(await partitionItems(groupId, 'MEMBER#')).toHaveLength(2500);
      const exits = await partitionItems(groupId, 'EXITED#');
      expect(exits).toHaveLength(500);
      expect(new Set(exits.map((e) => e.quitUserId))).toEqual(new Set(targets));
      expect(exits.every((e) => e.quitReason === 0 && e.operatorId === owner && e.operatorName === `Nick ${owner}`)).toBe(true);
      expect(exits.find((e) => e.quitUserId === targets[7])?.quitNickname).toBe(`Nick ${targets[7]}`);
      expect((await profileItem(targets[250] as string))?.groupCount).toBe(0);
      expect((await profileItem(others[0] as string))?.groupCount).toBe(1);

      const events = (await eventsFor(groupId)).filter((e) => e.detailType === 'MembersKicked');
      expect(events).toHaveLength(1);
      expect(events[0]?.detail).toMatchObject({ groupId, operatorId: owner, memberIds: targets });
    }, 180_000);

    it('reports a later chunk that meets a concurrent change; the chunks written stay, each exact', async () => {
      const { id, owner, others } = await groupWith(40);
      // Drives the store with a plan of 40 (chunks of 33 and 7) whose last member quits first.
      const members = await deps.departures.members(id, others);
      const gone = others[39] as string;
      expect((await api.quit(gone, { groupId: id })).status).toBe(200);
      const now = Date.now();
      const plan = {
        groupId: id,
        now,
        operator: { userId: owner, role: 0 as const },
        departures: others.map((u) => ({
          member: members.get(u) as Member,
          exit: { groupId: id, quitUserId: u, quitNickname: '', quitPortraitUri: '', quitReason: 0 as const, quitTime: now, operatorId: owner, operatorName: '' },
        })),
        managerIds: [],
        event: null,
      };
      // A change, not a refusal: the domain decides again for the 7 not yet removed.
      await expect(deps.departures.kick(plan)).rejects.toMatchObject({ name: 'Stale', remaining: others.slice(33), announced: false });

      // The first chunk (33) is done; the second (the 6 others and the one who quit) wrote nothing.
      expect((await groupItem(id))?.memberCount).toBe(41 - 1 - 33);
      const left = (await partitionItems(id, 'MEMBER#')).map((m) => m.userId as string).sort();
      expect(left).toEqual([owner, ...others.slice(33, 39)].sort());
      expect(await partitionItems(id, 'EXITED#')).toHaveLength(34);
      expect((await profileItem(others[0] as string))?.groupCount).toBe(0);
      expect((await profileItem(others[33] as string))?.groupCount).toBe(1);
    });
  });
});
