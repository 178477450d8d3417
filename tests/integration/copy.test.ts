import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deps } from '#lib/app.ts';
import { parseConfig } from '#lib/config.ts';
import { CopyConflict } from '#lib/domain/copy.ts';
import { Role, type Group, type Member } from '#lib/domain/model.ts';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup, type Reply } from '#tests/helpers/endpoints.ts';
import { eventsFor, getItem, groupItem, memberItem, partitionItems, patch, profileItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * POST /group/copy_group on DynamoDB Local, with the default (documented) 7-day periods: sources are
 * aged by patching their `createdAt` / `copiedTime` into the past.
 */

const DAY = 24 * 3600 * 1000;

const users = <P extends string[]>(...prefixes: P) => prefixes.map((p) => uniqueUserId(p)) as { [K in keyof P]: string };

interface Copied {
  id: string;
  userStatus: { id: string; status: number }[];
}

const copied = (reply: Reply): Copied => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body.code, JSON.stringify(reply.body)).toBe(200);
  return reply.body.result as Copied;
};

/** Makes a group old enough to be copied (past the 7-day protection period). */
const age = (groupId: string, days = 8) => patch(keys.group(groupId), { createdAt: Date.now() - days * DAY });

/** A group of `owner` and `others`, old enough to copy. */
const sourceGroup = async (owner: string, others: string[], name = 'Source group') => {
  const id = await createGroup(owner, others, name);
  await age(id);
  return id;
};

const setGroupCount = (userId: string, groupCount: number) => patch(keys.profile(userId), { userId, groupCount });
const askMeFirst = (userId: string) => api.userGroups({ sub: userId, group_verify: '0' });
const groupCount = async (userId: string) => ((await profileItem(userId))?.groupCount as number | undefined) ?? 0;

/** The caller's groups (ids), as GET /user/groups lists them. */
const groupsOf = async (userId: string) => ((await api.userGroups(userId)).body.result as { group: { id: string } }[]).map((g) => g.group.id);

/** A business-code answer: HTTP 200, the code and message, no `result`. */
const expectCode = (reply: Reply, code: number, message: string) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body).toEqual({ code, message });
};

const expectDenied = (reply: Reply, status: number, message: string) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body).toEqual({ code: status, message });
};

/** What a refused copy must leave as it was: the source, the caller's count, and no new group. */
const untouched = async (sourceId: string, callerId: string) => ({
  source: await groupItem(sourceId),
  count: await groupCount(callerId),
  groups: (await groupsOf(callerId)).sort(),
});

const withLimits = async (limits: Partial<typeof deps.limits>, run: () => Promise<void>) => {
  const saved = { ...deps.limits };
  Object.assign(deps.limits, limits);
  try {
    await run();
  } finally {
    Object.assign(deps.limits, saved);
  }
};

const NO_GROUP = 'No Group';
const PROTECTED = 'Group is in its protection period and cannot be copied yet.';
const COPIED = 'Group has already been copied within the copy interval.';
const ONE_MEMBER = 'Group has only one member.';
const NOT_MEMBER = 'Current user is not group member.';

describe('POST /group/copy_group', () => {
  describe('copies', () => {
    it('makes a new group owned by the caller with the source\'s members, answering like create', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      const before = Date.now();

      const { id, userStatus } = copied(await api.copyGroup(owner, { groupId: source, name: 'The copy' }));
      expect(id).toMatch(/^[0-9A-Za-z]{22}$/);
      expect(id).not.toBe(source);
      // As create: the directly added users, then the caller.
      expect(userStatus).toEqual([...[bob, carol].sort().map((u) => ({ id: u, status: 1 })), { id: owner, status: 1 }]);

      const copy = await groupItem(id);
      expect(copy).toMatchObject({ name: 'The copy', portraitUri: '', creatorId: owner, managerIds: [], memberCount: 3, maxMemberCount: 500, status: 'active', copiedTime: 0 });
      expect(copy?.createdAt).toBeGreaterThanOrEqual(before);
      expect((await memberItem(id, owner))?.role).toBe(Role.owner);
      expect((await memberItem(id, bob))?.role).toBe(Role.member);
      expect((await memberItem(id, carol))?.role).toBe(Role.member);
      expect(await partitionItems(id, 'MEMBER#')).toHaveLength(3);
      for (const u of [owner, bob, carol]) expect(await groupCount(u)).toBe(2);

      // The source is marked copied at the copy's creation time, and otherwise unchanged.
      const after = await groupItem(source);
      expect(after).toMatchObject({ copiedTime: copy?.createdAt, memberCount: 3, creatorId: owner, status: 'active' });
      expect(await partitionItems(source, 'MEMBER#')).toHaveLength(3);

      const listed = (await api.members(bob, id)).body.result as unknown[];
      expect(listed).toHaveLength(3);
    });

    it('lets a plain member copy: they own the copy and the source\'s owner is a plain member of it', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      const { id, userStatus } = copied(await api.copyGroup(bob, { groupId: source, name: 'Bob copy' }));
      expect(userStatus).toEqual([...[owner, carol].sort().map((u) => ({ id: u, status: 1 })), { id: bob, status: 1 }]);
      expect(await groupItem(id)).toMatchObject({ creatorId: bob, memberCount: 3 });
      expect((await memberItem(id, bob))?.role).toBe(Role.owner);
      expect((await memberItem(id, owner))?.role).toBe(Role.member);
      expect((await groupItem(source))?.creatorId).toBe(owner);
    });

    it('escapes the name and keeps a given portrait', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      const { id } = copied(await api.copyGroup(owner, { groupId: source, name: '<b>copy</b>', portraitUri: 'https://img.example/c.png' }));
      expect(await groupItem(id)).toMatchObject({ name: '&lt;b&gt;copy&lt;/b&gt;', portraitUri: 'https://img.example/c.png' });
    });

    it('copies neither roles nor settings: managers, bulletin, mute, certification, protection, clearing, portrait', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      expect((await api.setManager(owner, { groupId: source, memberIds: [bob] })).status).toBe(200);
      await patch(keys.group(source), {
        portraitUri: 'https://img.example/source.png',
        bulletin: 'hello',
        bulletinTime: Date.now(),
        bulletinCount: 1,
        isMute: 1,
        muteWhitelist: [carol],
        certiStatus: 0,
        memberProtection: 1,
        clearStatus: 7,
        clearTimeAt: Date.now(),
      });

      const { id } = copied(await api.copyGroup(owner, { groupId: source, name: 'Plain copy' }));
      expect(await groupItem(id)).toMatchObject({
        portraitUri: '',
        managerIds: [],
        bulletin: null,
        bulletinTime: null,
        bulletinCount: 0,
        isMute: 0,
        muteWhitelist: [],
        certiStatus: 1,
        memberProtection: 0,
        clearStatus: 0,
        clearTimeAt: null,
        copiedTime: 0,
      });
      expect((await memberItem(id, bob))?.role).toBe(Role.member);
      expect((await memberItem(source, bob))?.role).toBe(Role.manager);
    });

    it('invites members who asked to be asked instead of seating them, as create does', async () => {
      const [owner, bob, shy] = users('owner', 'bob', 'shy');
      const source = await sourceGroup(owner, [bob, shy]);
      await askMeFirst(shy);

      const { id, userStatus } = copied(await api.copyGroup(owner, { groupId: source, name: 'Polite copy' }));
      expect(userStatus).toEqual([
        { id: bob, status: 1 },
        { id: owner, status: 1 },
        { id: shy, status: 3 },
      ]);
      expect(await groupItem(id)).toMatchObject({ memberCount: 2 });
      expect(await memberItem(id, shy)).toBeUndefined();
      expect(await groupCount(shy)).toBe(1);
      const notices = await partitionItems(id, 'NOTICE#');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ type: 1, status: 2, requesterId: owner, receiverId: shy, viewerIds: [shy] });
      expect(await getItem(keys.inbox(shy, id, 1, shy))).toMatchObject({ groupId: id, type: 1, receiverId: shy });

      // The invitation is a real one: the invitee can agree and joins the copy.
      const agreed = await api.agree(shy, { groupId: id, receiverId: shy, status: 1 });
      expect(agreed.status, JSON.stringify(agreed.body)).toBe(200);
      expect(await groupItem(id)).toMatchObject({ memberCount: 3 });
      expect((await memberItem(id, shy))?.role).toBe(Role.member);
    });

    it('writes GroupCreated (and GroupInvited) for the copy, and no event for the source', async () => {
      const [owner, bob, shy] = users('owner', 'bob', 'shy');
      const source = await sourceGroup(owner, [bob, shy]);
      await askMeFirst(shy);
      const sourceEvents = await eventsFor(source);

      const { id } = copied(await api.copyGroup(owner, { groupId: source, name: 'Evented copy', portraitUri: 'https://img.example/e.png' }));
      const events = await eventsFor(id);
      const createdAt = (await groupItem(id))?.createdAt as number;
      expect(events).toEqual([
        {
          source: 'sealtalk.group',
          detailType: 'GroupCreated',
          detail: expect.objectContaining({
            groupId: id,
            operatorId: owner,
            name: 'Evented copy',
            portraitUri: 'https://img.example/e.png',
            memberIds: [bob, owner],
            timestamp: createdAt,
          }) as unknown,
        },
        {
          source: 'sealtalk.group',
          detailType: 'GroupInvited',
          detail: expect.objectContaining({
            groupId: id,
            requesterId: owner,
            receiverIds: [shy],
            recipientIds: [shy],
            noticeType: 1,
            status: 2,
            timestamp: createdAt,
          }) as unknown,
        },
      ]);
      expect(await eventsFor(source)).toEqual(sourceEvents);
    });

    it('copies a group of more than one transaction (chunked creation) with exact counts and one event', async () => {
      const owner = uniqueUserId('owner');
      const others = Array.from({ length: 149 }, (_, i) => `${owner}-m${String(i).padStart(3, '0')}`);
      const source = await sourceGroup(owner, others);
      const copier = others[7] as string;

      const { id, userStatus } = copied(await api.copyGroup(copier, { groupId: source, name: 'Big copy' }));
      expect(userStatus).toHaveLength(150);
      expect(userStatus.at(-1)).toEqual({ id: copier, status: 1 });
      expect(await groupItem(id)).toMatchObject({ status: 'active', memberCount: 150, creatorId: copier });
      const members = await partitionItems(id, 'MEMBER#');
      expect(members).toHaveLength(150);
      expect(members.filter((m) => m.role === Role.owner).map((m) => m.userId)).toEqual([copier]);
      for (const u of [owner, copier, others[0] as string, others[148] as string]) expect(await groupCount(u)).toBe(2);
      expect((await groupItem(source))?.copiedTime).toBe((await groupItem(id))?.createdAt);
      expect((await eventsFor(id)).map((e) => e.detailType)).toEqual(['GroupCreated']);
    });

    it('copies again once the copy interval has passed', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      await patch(keys.group(source), { copiedTime: Date.now() - 7 * DAY - 60_000 });
      const { id } = copied(await api.copyGroup(owner, { groupId: source, name: 'Second copy' }));
      expect((await groupItem(source))?.copiedTime).toBe((await groupItem(id))?.createdAt);
    });

    it('copies once the protection period has passed (just over 7 days)', async () => {
      const [owner, bob] = users('owner', 'bob');
      const id = await createGroup(owner, [bob]);
      await patch(keys.group(id), { createdAt: Date.now() - 7 * DAY - 60_000 });
      copied(await api.copyGroup(owner, { groupId: id, name: 'Just old enough' }));
    });

    it('uses the configured periods (COPY_PROTECTION_MS, COPY_INTERVAL_MS)', async () => {
      expect(parseConfig({ TABLE_NAME: 't', COPY_PROTECTION_MS: '60000', COPY_INTERVAL_MS: '0' })).toMatchObject({
        COPY_PROTECTION_MS: 60_000,
        COPY_INTERVAL_MS: 0,
      });
      expect(parseConfig({ TABLE_NAME: 't' })).toMatchObject({ COPY_PROTECTION_MS: 7 * DAY, COPY_INTERVAL_MS: 7 * DAY });

      const [owner, bob] = users('owner', 'bob');
      const source = await createGroup(owner, [bob]);
      await patch(keys.group(source), { createdAt: Date.now() - 120_000 });
      await withLimits({ copyProtectionMs: 60_000, copyIntervalMs: 60_000 }, async () => {
        copied(await api.copyGroup(owner, { groupId: source, name: 'Quick copy' }));
        expectCode(await api.copyGroup(owner, { groupId: source, name: 'Too quick' }), 20005, COPIED);
        await patch(keys.group(source), { copiedTime: Date.now() - 61_000 });
        copied(await api.copyGroup(owner, { groupId: source, name: 'Quick again' }));
      });
      expect(await groupCount(owner)).toBe(3);
    });
  });

  describe('business codes (HTTP 200), writing nothing', () => {
    it('20006 for an unknown group, without a string result', async () => {
      const caller = uniqueUserId('caller');
      expectCode(await api.copyGroup(caller, { groupId: deps.newGroupId(), name: 'Copy' }), 20006, NO_GROUP);
      expect(await groupCount(caller)).toBe(0);
    });

    it('20006 for an impossible group id', async () => {
      const caller = uniqueUserId('caller');
      for (const groupId of ['not a group!', 'x'.repeat(65), '../etc']) {
        expectCode(await api.copyGroup(caller, { groupId, name: 'Copy' }), 20006, NO_GROUP);
      }
      expect(await groupCount(caller)).toBe(0);
    });

    it('20006 for a dismissed group, even for its former members', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      expect((await api.dismiss(owner, { groupId: source })).status).toBe(200);
      const before = await untouched(source, owner);
      expectCode(await api.copyGroup(owner, { groupId: source, name: 'Copy' }), 20006, NO_GROUP);
      expect(await untouched(source, owner)).toEqual(before);
    });

    it('20006 for a dismissed group whose members are still listed (before its cleanup)', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      await patch(keys.group(source), { status: 'dismissed', deletedAt: new Date().toISOString() });
      const before = await untouched(source, bob);
      expectCode(await api.copyGroup(bob, { groupId: source, name: 'Copy' }), 20006, NO_GROUP);
      expect(await untouched(source, bob)).toEqual(before);
    });

    it('20006 for a group still being created (invisible)', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      await patch(keys.group(source), { status: 'creating' });
      expectCode(await api.copyGroup(owner, { groupId: source, name: 'Copy' }), 20006, NO_GROUP);
    });

    it('20004 while the source is younger than the protection period (7 days)', async () => {
      const [owner, bob] = users('owner', 'bob');
      const fresh = await createGroup(owner, [bob]);
      const before = await untouched(fresh, owner);
      expectCode(await api.copyGroup(owner, { groupId: fresh, name: 'Copy' }), 20004, PROTECTED);
      expect(await untouched(fresh, owner)).toEqual(before);
      await patch(keys.group(fresh), { createdAt: Date.now() - 6 * DAY });
      expectCode(await api.copyGroup(owner, { groupId: fresh, name: 'Copy' }), 20004, PROTECTED);
      expect((await groupItem(fresh))?.copiedTime).toBe(0);
      expect(await groupCount(owner)).toBe(1);
    });

    it('20004 for a fresh copy (a copy is itself protected)', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      const { id } = copied(await api.copyGroup(owner, { groupId: source, name: 'Copy one' }));
      expectCode(await api.copyGroup(bob, { groupId: id, name: 'Copy two' }), 20004, PROTECTED);
    });

    it('20005 when the source was copied within the interval (7 days)', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      copied(await api.copyGroup(owner, { groupId: source, name: 'First copy' }));
      const before = await untouched(source, bob);
      expectCode(await api.copyGroup(bob, { groupId: source, name: 'Second copy' }), 20005, COPIED);
      await patch(keys.group(source), { copiedTime: Date.now() - 6 * DAY });
      expectCode(await api.copyGroup(bob, { groupId: source, name: 'Second copy' }), 20005, COPIED);
      expect(await groupCount(bob)).toBe(before.count);
      expect((await groupsOf(bob)).sort()).toEqual(before.groups);
    });

    it('20007 when the source has one member', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      expect((await api.quit(bob, { groupId: source })).status).toBe(200);
      const before = await untouched(source, owner);
      expectCode(await api.copyGroup(owner, { groupId: source, name: 'Lonely copy' }), 20007, ONE_MEMBER);
      expect(await untouched(source, owner)).toEqual(before);
    });

    it('1000 when the caller is at the per-user group limit', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      await setGroupCount(owner, 500);
      const before = await untouched(source, owner);
      expectCode(
        await api.copyGroup(owner, { groupId: source, name: 'One too many' }),
        1000,
        "Current user's group count is out of max user group count limit (500).",
      );
      expect(await untouched(source, owner)).toEqual(before);
      expect(await groupCount(bob)).toBe(1);
    });

    it('1000 naming a member who would be added while at the limit; an invitee at the limit does not block', async () => {
      const [owner, full, shyFull] = users('owner', 'full', 'shy');
      const source = await sourceGroup(owner, [full, shyFull]);
      await setGroupCount(full, 500);
      await setGroupCount(shyFull, 500);
      await askMeFirst(shyFull);
      const before = await untouched(source, owner);
      expectCode(
        await api.copyGroup(owner, { groupId: source, name: 'Blocked' }),
        1000,
        `Member ${full}'s group count is out of max user group count limit (500).`,
      );
      expect(await untouched(source, owner)).toEqual(before);

      await setGroupCount(full, 499);
      const { userStatus } = copied(await api.copyGroup(owner, { groupId: source, name: 'Unblocked' }));
      expect(userStatus).toEqual([
        { id: full, status: 1 },
        { id: owner, status: 1 },
        { id: shyFull, status: 3 },
      ]);
      expect(await groupCount(full)).toBe(500);
      expect(await groupCount(shyFull)).toBe(500);
    });
  });

  describe('denials (4xx), writing nothing', () => {
    it('403 for a caller who is not a member of the source', async () => {
      const [owner, bob, stranger] = users('owner', 'bob', 'stranger');
      const source = await sourceGroup(owner, [bob]);
      const before = await untouched(source, stranger);
      expectDenied(await api.copyGroup(stranger, { groupId: source, name: 'Stolen copy' }), 403, NOT_MEMBER);
      expect(await untouched(source, stranger)).toEqual(before);
    });

    it('403 for a former member (kicked or quit)', async () => {
      const [owner, bob, carol, dave] = users('owner', 'bob', 'carol', 'dave');
      const source = await sourceGroup(owner, [bob, carol, dave]);
      expect((await api.kick(owner, { groupId: source, memberIds: [bob] })).status).toBe(200);
      expect((await api.quit(carol, { groupId: source })).status).toBe(200);
      expectDenied(await api.copyGroup(bob, { groupId: source, name: 'Copy' }), 403, NOT_MEMBER);
      expectDenied(await api.copyGroup(carol, { groupId: source, name: 'Copy' }), 403, NOT_MEMBER);
      expect((await groupItem(source))?.copiedTime).toBe(0);
    });

    it('the membership check comes before the periods (a stranger learns nothing of them)', async () => {
      const [owner, bob, stranger] = users('owner', 'bob', 'stranger');
      const fresh = await createGroup(owner, [bob]);
      expectDenied(await api.copyGroup(stranger, { groupId: fresh, name: 'Copy' }), 403, NOT_MEMBER);
    });

    describe('400 naming the field', () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ['missing groupId', { name: 'Copy' }, 'groupId: required'],
        ['null groupId', { groupId: null, name: 'Copy' }, 'groupId: required'],
        ['empty groupId', { groupId: '', name: 'Copy' }, 'groupId: expected a non-empty group id'],
        ['missing name', { groupId: 'SOURCE' }, 'name: required'],
        ['empty name', { groupId: 'SOURCE', name: '' }, 'name: expected a group name'],
        ['numeric name', { groupId: 'SOURCE', name: 42 }, 'name: expected a group name'],
        ['one-character name', { groupId: 'SOURCE', name: 'a' }, 'name: Length of group name is out of limit.'],
        ['33-character name', { groupId: 'SOURCE', name: 'a'.repeat(33) }, 'name: Length of group name is out of limit.'],
        ['empty portraitUri', { groupId: 'SOURCE', name: 'Copy', portraitUri: '' }, 'portraitUri: expected a non-empty portrait URI'],
        ['long portraitUri', { groupId: 'SOURCE', name: 'Copy', portraitUri: `https://${'a'.repeat(250)}` }, 'portraitUri: expected at most 256 characters'],
      ];
      it.each(cases)('%s', async (_, body, message) => {
        const [owner, bob] = users('owner', 'bob');
        const source = await sourceGroup(owner, [bob]);
        const before = await untouched(source, owner);
        const reply = await api.copyGroup(owner, { ...body, ...(body.groupId === 'SOURCE' ? { groupId: source } : {}) });
        expectDenied(reply, 400, message);
        expect(await untouched(source, owner)).toEqual(before);
      });
    });

    it('the name is checked after the periods, as in the reference', async () => {
      const [owner, bob] = users('owner', 'bob');
      const fresh = await createGroup(owner, [bob]);
      expectCode(await api.copyGroup(owner, { groupId: fresh, name: 'a' }), 20004, PROTECTED);
    });

    it('400 when the source has more members than a group may hold', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      const before = await untouched(source, owner);
      await withLimits({ maxGroupMembers: 2 }, async () => {
        expectDenied(
          await api.copyGroup(owner, { groupId: source, name: 'Too big' }),
          400,
          "groupId: Group's member count is out of max group member count limit (2).",
        );
      });
      expect(await untouched(source, owner)).toEqual(before);
    });
  });

  it('never answers a 500 to malformed input, from a member or a stranger', async () => {
    const [owner, bob] = users('owner', 'bob');
    const source = await sourceGroup(owner, [bob]);
    const values = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.oneof(fc.string(), fc.integer())), fc.object());
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(bob, uniqueUserId('stranger')),
        fc.record({ groupId: fc.oneof(values, fc.constant(source)), name: values, portraitUri: values }, { requiredKeys: [] }),
        async (caller, body) => {
          const reply = await api.copyGroup(caller, body);
          expect(reply.status).toBeLessThan(500);
          if (reply.status !== 200) expect(reply.body).toEqual({ code: reply.status, message: expect.any(String) as unknown });
        },
      ),
      { numRuns: 60 },
    );
  });

  describe('under concurrency', () => {
    it('of two concurrent copies of one source by different members exactly one succeeds, the other 20005', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      const replies = await Promise.all([
        api.copyGroup(bob, { groupId: source, name: 'Bob copy' }),
        api.copyGroup(carol, { groupId: source, name: 'Carol copy' }),
      ]);
      const codes = replies.map((r) => r.body.code);
      expect([...codes].sort()).toEqual([200, 20005]);
      const winner = replies.find((r) => r.body.code === 200) as Reply;
      const loser = replies.find((r) => r.body.code === 20005) as Reply;
      expect(loser.body).toEqual({ code: 20005, message: COPIED });
      const { id } = winner.body.result as Copied;

      // Exactly one copy exists: every member is in the source and one copy.
      for (const u of [owner, bob, carol]) {
        expect(await groupCount(u)).toBe(2);
        expect((await groupsOf(u)).sort()).toEqual([source, id].sort());
      }
      expect(await groupItem(id)).toMatchObject({ memberCount: 3 });
      expect((await groupItem(source))?.copiedTime).toBe((await groupItem(id))?.createdAt);
    });

    it('of several concurrent copies by the same caller exactly one succeeds', async () => {
      const [owner, bob] = users('owner', 'bob');
      const source = await sourceGroup(owner, [bob]);
      const replies = await Promise.all(Array.from({ length: 4 }, (_, i) => api.copyGroup(owner, { groupId: source, name: `Copy ${i}` })));
      expect(replies.map((r) => r.body.code).sort()).toEqual([200, 20005, 20005, 20005]);
      expect(await groupCount(owner)).toBe(2);
      expect(await groupCount(bob)).toBe(2);
    });

    it('of two concurrent chunked copies exactly one succeeds and the other leaves nothing behind', async () => {
      const owner = uniqueUserId('owner');
      const others = Array.from({ length: 119 }, (_, i) => `${owner}-m${String(i).padStart(3, '0')}`);
      const source = await sourceGroup(owner, others);
      const [a, b] = [others[0] as string, others[1] as string];
      const replies = await Promise.all([
        api.copyGroup(a, { groupId: source, name: 'Copy A' }),
        api.copyGroup(b, { groupId: source, name: 'Copy B' }),
      ]);
      expect(replies.map((r) => r.body.code).sort()).toEqual([200, 20005]);
      const { id } = (replies.find((r) => r.body.code === 200) as Reply).body.result as Copied;
      for (const u of [owner, a, b, others[60] as string, others[118] as string]) {
        expect(await groupCount(u)).toBe(2);
        expect((await groupsOf(u)).sort()).toEqual([source, id].sort());
      }
      expect(await groupItem(id)).toMatchObject({ memberCount: 120, status: 'active' });
    });

    it('a copy racing a dismissal of the source either commits first or answers 20006', async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const source = await sourceGroup(owner, [bob, carol]);
      const [copy, dismissal] = await Promise.all([
        api.copyGroup(bob, { groupId: source, name: 'Racing copy' }),
        api.dismiss(owner, { groupId: source }),
      ]);
      expect(dismissal.status).toBe(200);
      // Either the copy committed before the dismissal (a group of its own) or it answers 20006.
      if (copy.body.code === 200) {
        const { id } = copy.body.result as Copied;
        expect(await groupItem(id)).toMatchObject({ status: 'active', memberCount: 3 });
      } else {
        expectCode(copy, 20006, NO_GROUP);
        expect(await groupCount(bob)).toBeLessThanOrEqual(1);
      }
    });
  });

  describe('the source guard of the visible-making transaction (repository)', () => {
    const planned = (owner: string, others: string[]) => {
      const now = Date.now();
      const groupId = deps.newGroupId();
      const member = (userId: string, role: Member['role']): Member => ({
        groupId, userId, role, displayName: '', groupNickname: '', createdAt: now, updatedAt: now, timestamp: now,
      });
      const group: Group = {
        id: groupId, name: 'Planned', portraitUri: '', creatorId: owner, managerIds: [], memberCount: others.length + 1, maxMemberCount: 500,
        certiStatus: 1, isMute: 0, muteWhitelist: [], memberProtection: 0, clearStatus: 0, clearTimeAt: null, bulletin: null, bulletinTime: null,
        bulletinCount: 0, copiedTime: 0, status: 'active', deletedAt: null, createdAt: now, updatedAt: now, version: 1,
      };
      return { group, members: [member(owner, 0), ...others.map((u) => member(u, 1))], notices: [], events: [] };
    };

    const cases: [string, number][] = [
      ['one transaction', 2],
      ['chunks', 130],
    ];
    describe.each(cases)('in %s', (_, size) => {
      const setUp = async () => {
        const owner = uniqueUserId('owner');
        const others = Array.from({ length: size }, (__, i) => `${owner}-m${String(i).padStart(3, '0')}`);
        const source = await sourceGroup(owner, others);
        return { owner, others, source, input: planned(owner, others) };
      };

      const expectNothingWritten = async (input: ReturnType<typeof planned>, users: string[]) => {
        expect(await groupItem(input.group.id)).toBeUndefined();
        expect(await partitionItems(input.group.id, 'MEMBER#')).toHaveLength(0);
        for (const u of users) expect(await groupCount(u)).toBe(1);
      };

      it('refuses a copiedTime other than the one read ("copied")', async () => {
        const { owner, others, source, input } = await setUp();
        await patch(keys.group(source), { copiedTime: 5 });
        const attempt = deps.groups.create(input, { maxUserGroups: 500 }, { sourceId: source, copiedTime: 0, memberId: owner });
        await expect(attempt).rejects.toEqual(new CopyConflict('copied'));
        await expectNothingWritten(input, [owner, others[0] as string, others.at(-1) as string]);
        expect((await groupItem(source))?.copiedTime).toBe(5);
      });

      it('refuses a source dismissed meanwhile ("gone")', async () => {
        const { owner, others, source, input } = await setUp();
        await patch(keys.group(source), { status: 'dismissed', deletedAt: new Date().toISOString() });
        const attempt = deps.groups.create(input, { maxUserGroups: 500 }, { sourceId: source, copiedTime: 0, memberId: owner });
        await expect(attempt).rejects.toEqual(new CopyConflict('gone'));
        await expectNothingWritten(input, [owner, others[0] as string]);
      });

      it('refuses a caller who left the source meanwhile ("member")', async () => {
        const { owner, others, source, input } = await setUp();
        const leaver = uniqueUserId('left');
        const attempt = deps.groups.create(input, { maxUserGroups: 500 }, { sourceId: source, copiedTime: 0, memberId: leaver });
        await expect(attempt).rejects.toEqual(new CopyConflict('member'));
        await expectNothingWritten(input, [owner, others[0] as string]);
        expect((await groupItem(source))?.copiedTime).toBe(0);
      });

      it('commits with the source marked copied when the guard holds', async () => {
        const { owner, source, input } = await setUp();
        await deps.groups.create(input, { maxUserGroups: 500 }, { sourceId: source, copiedTime: 0, memberId: owner });
        expect(await groupItem(input.group.id)).toMatchObject({ status: 'active', memberCount: size + 1 });
        expect((await groupItem(source))?.copiedTime).toBe(input.group.createdAt);
        expect(await groupCount(owner)).toBe(2);
      });
    });
  });
});
