import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup, type Reply } from '#tests/helpers/endpoints.ts';
import { eventsFor, getItem, groupItem, memberItem, partitionItems, patch, profileItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

const ROUNDS = Number(process.env.ROLES_RACE_ROUNDS ?? 5);

const users = <P extends string[]>(...prefixes: P) => prefixes.map((p) => uniqueUserId(p)) as { [K in keyof P]: string };

/** Everything of a group a denied request must leave as it was: the group item, members, events. */
const stateOf = async (groupId: string) => ({
  group: await groupItem(groupId),
  members: (await partitionItems(groupId, 'MEMBER#')).sort((a, b) => String(a.sk).localeCompare(String(b.sk))),
  events: await eventsFor(groupId),
});

const expectDenied = (reply: Reply, status: number, message: string) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.body).toEqual({ code: status, message });
};

const ok = (reply: Reply) => {
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body).toEqual({ code: 200 });
};

const dismissLocally = (groupId: string) => patch(keys.group(groupId), { status: 'dismissed', deletedAt: new Date().toISOString() });

/** Role of each member item, and the group's owner and managers: the two places that hold roles. */
const rolesOf = async (groupId: string) => {
  const members = await partitionItems(groupId, 'MEMBER#');
  const group = await groupItem(groupId);
  return {
    roles: Object.fromEntries(members.map((m) => [m.userId as string, m.role as number])),
    creatorId: group?.creatorId as string,
    managerIds: group?.managerIds as string[],
  };
};

describe('POST /group/dismiss', () => {
  it('lets the owner dismiss in one write: dismissed, deletedAt, count 0, one GroupDismissed', async () => {
    const [owner, manager, bob] = users('owner', 'manager', 'bob');
    const id = await createGroup(owner, [manager, bob]);
    ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));

    ok(await api.dismiss(owner, { groupId: id }));

    const group = await groupItem(id);
    expect(group).toMatchObject({ status: 'dismissed', memberCount: 0, creatorId: owner });
    expect(new Date(group?.deletedAt as string).toISOString()).toBe(group?.deletedAt);
    const shown = (await api.get(bob, id)).body.result as { deletedAt: string | null };
    expect(shown.deletedAt).toBe(group?.deletedAt);

    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'ManagersSet', 'GroupDismissed']);
    expect(events[2]?.detail).toEqual({ groupId: id, operatorId: owner, whitelistIds: [owner, manager], timestamp: expect.any(Number) });
    // Members stay until the GroupDismissed consumer releases them.
    expect(await partitionItems(id, 'MEMBER#')).toHaveLength(3);
  });

  it('then refuses every change with 404, writing nothing', async () => {
    const [owner, bob, carol] = users('owner', 'bob', 'carol');
    const id = await createGroup(owner, [bob, carol]);
    ok(await api.dismiss(owner, { groupId: id }));
    const before = await stateOf(id);

    const unknown = { code: 404, message: 'Unknown group.' };
    expect((await api.rename(owner, { groupId: id, name: 'Again' })).body).toEqual(unknown);
    expect((await api.dismiss(owner, { groupId: id })).body).toEqual(unknown);
    expect((await api.transfer(owner, { groupId: id, userId: bob })).body).toEqual(unknown);
    expect((await api.setManager(owner, { groupId: id, memberIds: [bob] })).body).toEqual(unknown);
    expect((await api.removeManager(owner, { groupId: id, memberIds: [bob] })).body).toEqual(unknown);
    expect(await stateOf(id)).toEqual(before);
  });

  it("refuses a manager, a plain member and a stranger with the reference's 400, changing nothing", async () => {
    const [owner, manager, bob] = users('owner', 'manager', 'bob');
    const id = await createGroup(owner, [manager, bob]);
    ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
    const before = await stateOf(id);
    for (const caller of [manager, bob, uniqueUserId('stranger')]) {
      expectDenied(await api.dismiss(caller, { groupId: id }), 400, 'Unknown group or not creator.');
    }
    expect(await stateOf(id)).toEqual(before);
    expect(before.group?.status).toBe('active');
  });

  it('answers 404 for unknown, impossible and already dismissed groups', async () => {
    const owner = uniqueUserId('owner');
    const dismissed = await createGroup(owner, [uniqueUserId('bob')]);
    await dismissLocally(dismissed);
    for (const groupId of ['NoSuchGroup1234567890a', 'not/a/group', 'x'.repeat(65), dismissed]) {
      expectDenied(await api.dismiss(owner, { groupId }), 404, 'Unknown group.');
    }
    expect((await eventsFor(dismissed)).map((e) => e.detailType)).toEqual(['GroupCreated']);
  });

  it.each([
    [{}, 'groupId: required'],
    [{ groupId: null }, 'groupId: required'],
    [{ groupId: '' }, 'groupId: expected a non-empty group id'],
    [{ groupId: 7 }, 'groupId: expected a non-empty group id'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.dismiss(uniqueUserId('owner'), body), 400, message);
  });

  it('dismisses once when the owner sends it five times at once', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')]);
    const replies = await Promise.all(Array.from({ length: 5 }, () => api.dismiss(owner, { groupId: id })));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of replies.filter((x) => x.status !== 200)) expect(r.body).toEqual({ code: 404, message: 'Unknown group.' });
    expect((await eventsFor(id)).filter((e) => e.detailType === 'GroupDismissed')).toHaveLength(1);
  });

  it('names the managers of the moment when set_manager races the dismissal', async () => {
    const [owner, a, b] = users('owner', 'a', 'b');
    const id = await createGroup(owner, [a, b]);
    const [set, dismissed] = await Promise.all([api.setManager(owner, { groupId: id, memberIds: [a] }), api.dismiss(owner, { groupId: id })]);
    expect(dismissed.status).toBe(200);
    const event = (await eventsFor(id)).find((e) => e.detailType === 'GroupDismissed');
    expect(event?.detail.whitelistIds).toEqual(set.status === 200 ? [owner, a] : [owner]);
    if (set.status !== 200) expect(set.body).toEqual({ code: 404, message: 'Unknown group.' });
  });
});

describe('POST /group/transfer', () => {
  it('makes a plain member the owner and the old owner a plain member, with one OwnerTransferred', async () => {
    const [owner, bob, carol] = users('owner', 'bob', 'carol');
    const id = await createGroup(owner, [bob, carol]);
    const versionBefore = (await groupItem(id))?.version as number;

    ok(await api.transfer(owner, { groupId: id, userId: bob }));

    expect(await rolesOf(id)).toEqual({ roles: { [owner]: 1, [bob]: 0, [carol]: 1 }, creatorId: bob, managerIds: [] });
    expect((await groupItem(id))?.version).toBe(versionBefore + 1);
    expect(((await api.get(carol, id)).body.result as { creatorId: string }).creatorId).toBe(bob);
    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'OwnerTransferred']);
    expect(events[1]?.detail).toEqual({ groupId: id, operatorId: owner, newOwnerId: bob, timestamp: expect.any(Number) });
    // Counts do not move.
    expect((await groupItem(id))?.memberCount).toBe(3);
    expect((await profileItem(owner))?.groupCount).toBe(1);
  });

  it('takes a manager out of managerIds when they become the owner, keeping the others', async () => {
    const [owner, m1, m2, m3] = users('owner', 'm1', 'm2', 'm3');
    const id = await createGroup(owner, [m1, m2, m3]);
    ok(await api.setManager(owner, { groupId: id, memberIds: [m1, m2, m3] }));

    ok(await api.transfer(owner, { groupId: id, userId: m2 }));

    expect(await rolesOf(id)).toEqual({ roles: { [owner]: 1, [m1]: 2, [m2]: 0, [m3]: 2 }, creatorId: m2, managerIds: [m1, m3] });
  });

  it('hands over every owner right: the new owner manages, the old one is refused', async () => {
    const [owner, bob, carol] = users('owner', 'bob', 'carol');
    const id = await createGroup(owner, [bob, carol]);
    ok(await api.transfer(owner, { groupId: id, userId: bob }));

    expectDenied(await api.transfer(owner, { groupId: id, userId: carol }), 400, 'Current user is not group creator.');
    expectDenied(await api.setManager(owner, { groupId: id, memberIds: [carol] }), 401, 'No permission to set up an manager.');
    ok(await api.setManager(bob, { groupId: id, memberIds: [carol] }));
    ok(await api.transfer(bob, { groupId: id, userId: owner }));
    expect(await rolesOf(id)).toEqual({ roles: { [owner]: 0, [bob]: 1, [carol]: 2 }, creatorId: owner, managerIds: [carol] });
  });

  it('refuses a transfer to oneself with 403, whatever the group', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')]);
    const before = await stateOf(id);
    for (const groupId of [id, 'NoSuchGroup1234567890a']) {
      expectDenied(await api.transfer(owner, { groupId, userId: owner }), 403, 'Can not transfer creator role to yourself.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const [owner, bob] = users('owner', 'bob');
    const dismissed = await createGroup(owner, [bob]);
    await dismissLocally(dismissed);
    for (const groupId of ['NoSuchGroup1234567890a', 'bad-id!', dismissed]) {
      expectDenied(await api.transfer(owner, { groupId, userId: bob }), 404, 'Unknown group.');
    }
    expect((await groupItem(dismissed))?.creatorId).toBe(owner);
  });

  it("refuses anyone but the owner with the reference's 400, changing nothing", async () => {
    const [owner, manager, bob] = users('owner', 'manager', 'bob');
    const id = await createGroup(owner, [manager, bob]);
    ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
    const before = await stateOf(id);
    expectDenied(await api.transfer(manager, { groupId: id, userId: bob }), 400, 'Current user is not group creator.');
    expectDenied(await api.transfer(bob, { groupId: id, userId: manager }), 400, 'Current user is not group creator.');
    expectDenied(await api.transfer(uniqueUserId('stranger'), { groupId: id, userId: bob }), 400, 'Current user is not group creator.');
    expect(await stateOf(id)).toEqual(before);
  });

  it('refuses a target who is not a member with 400, changing nothing', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    const before = await stateOf(id);
    expectDenied(await api.transfer(owner, { groupId: id, userId: uniqueUserId('stranger') }), 400, 'Invalid groupId or userId.');
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ userId: 'bob' }, 'groupId: required'],
    [{ groupId: '', userId: 'bob' }, 'groupId: expected a non-empty group id'],
    [{ groupId: 'abc' }, 'userId: required'],
    [{ groupId: 'abc', userId: null }, 'userId: required'],
    [{ groupId: 'abc', userId: '' }, 'userId: expected a non-empty user id'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.transfer(uniqueUserId('owner'), body), 400, message);
  });

  it('keeps exactly one owner when the owner transfers to two members at once', async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, a, b] = users('owner', 'a', 'b');
      const id = await createGroup(owner, [a, b]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [b] }));
      const replies = await Promise.all([api.transfer(owner, { groupId: id, userId: a }), api.transfer(owner, { groupId: id, userId: b })]);

      const won = replies.filter((r) => r.status === 200);
      expect(won).toHaveLength(1);
      expectDenied(replies.find((r) => r.status !== 200) as Reply, 400, 'Current user is not group creator.');
      const { roles, creatorId, managerIds } = await rolesOf(id);
      expect(Object.values(roles).filter((r) => r === 0)).toHaveLength(1);
      expect(roles[creatorId]).toBe(0);
      expect(roles[owner]).toBe(1);
      expect(managerIds).toEqual(creatorId === b ? [] : [b]);
      expect((await eventsFor(id)).filter((e) => e.detailType === 'OwnerTransferred')).toHaveLength(1);
    }
  });

  it('keeps one owner when a transfer races the new owner being made a manager', async () => {
    // Several rounds: set_manager's batch read can land in the middle of the transfer's commit
    // (group item from before, the new owner's member item from after); it must read again rather
    // than answer from roles that disagree ("Cannot set the group creator." was seen in CI).
    for (let round = 0; round < ROUNDS; round++) {
      const [owner, a] = users('owner', 'a');
      const id = await createGroup(owner, [a]);
      const [transfer, set] = await Promise.all([
        api.transfer(owner, { groupId: id, userId: a }),
        api.setManager(owner, { groupId: id, memberIds: [a] }),
      ]);
      expect(transfer.status).toBe(200);
      const { roles, creatorId, managerIds } = await rolesOf(id);
      expect({ roles, creatorId, managerIds }).toEqual({ roles: { [owner]: 1, [a]: 0 }, creatorId: a, managerIds: [] });
      // set_manager either ran first (then the transfer took `a` out of managerIds) or was refused after.
      if (set.status !== 200) expectDenied(set, 401, 'No permission to set up an manager.');
    }
  });
});

describe('POST /group/set_manager and /group/remove_manager', () => {
  it('makes members managers: roles and managerIds agree, one ManagersSet', async () => {
    const [owner, a, b, c] = users('owner', 'a', 'b', 'c');
    const id = await createGroup(owner, [a, b, c]);

    ok(await api.setManager(owner, { groupId: id, memberIds: [a, b, a] }));

    expect(await rolesOf(id)).toEqual({ roles: { [owner]: 0, [a]: 2, [b]: 2, [c]: 1 }, creatorId: owner, managerIds: [a, b] });
    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'ManagersSet']);
    expect(events[1]?.detail).toEqual({ groupId: id, operatorId: owner, memberIds: [a, b], timestamp: expect.any(Number) });
    // Managers see what the owner sees in member lists.
    expect((await api.members(a, id)).status).toBe(200);
  });

  it('makes managers plain members again: roles and managerIds agree, one ManagersRemoved', async () => {
    const [owner, a, b, c] = users('owner', 'a', 'b', 'c');
    const id = await createGroup(owner, [a, b, c]);
    ok(await api.setManager(owner, { groupId: id, memberIds: [a, b, c] }));

    ok(await api.removeManager(owner, { groupId: id, memberIds: [c, a] }));

    expect(await rolesOf(id)).toEqual({ roles: { [owner]: 0, [a]: 1, [b]: 2, [c]: 1 }, creatorId: owner, managerIds: [b] });
    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'ManagersSet', 'ManagersRemoved']);
    expect(events[2]?.detail).toEqual({ groupId: id, operatorId: owner, memberIds: [c, a], timestamp: expect.any(Number) });
  });

  it('leaves users who already have the role as they are: 200, and no write when nobody changes', async () => {
    const [owner, a, b] = users('owner', 'a', 'b');
    const id = await createGroup(owner, [a, b]);
    ok(await api.setManager(owner, { groupId: id, memberIds: [a] }));
    const before = await stateOf(id);

    ok(await api.setManager(owner, { groupId: id, memberIds: [a] }));
    ok(await api.removeManager(owner, { groupId: id, memberIds: [b] }));
    expect(await stateOf(id)).toEqual(before);

    ok(await api.setManager(owner, { groupId: id, memberIds: [a, b] }));
    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'ManagersSet', 'ManagersSet']);
    expect(events[2]?.detail.memberIds).toEqual([b]);
    expect((await rolesOf(id)).managerIds).toEqual([a, b]);
  });

  describe.each([
    ['set_manager', api.setManager],
    ['remove_manager', api.removeManager],
  ] as const)('%s denials', (_name, call) => {
    it('refuses a caller who is not a member with 402', async () => {
      const [owner, a] = users('owner', 'a');
      const id = await createGroup(owner, [a]);
      const before = await stateOf(id);
      expectDenied(await call(uniqueUserId('stranger'), { groupId: id, memberIds: [a] }), 402, 'Not in the group.');
      expect(await stateOf(id)).toEqual(before);
    });

    it('refuses a plain member and a manager with 401', async () => {
      const [owner, manager, a] = users('owner', 'manager', 'a');
      const id = await createGroup(owner, [manager, a]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      const before = await stateOf(id);
      expectDenied(await call(a, { groupId: id, memberIds: [a] }), 401, 'No permission to set up an manager.');
      expectDenied(await call(manager, { groupId: id, memberIds: [a] }), 401, 'No permission to set up an manager.');
      expectDenied(await call(manager, { groupId: id, memberIds: [manager] }), 401, 'No permission to set up an manager.');
      expect(await stateOf(id)).toEqual(before);
    });

    it('refuses a list naming the owner with 403, changing nobody', async () => {
      const [owner, manager, a] = users('owner', 'manager', 'a');
      const id = await createGroup(owner, [manager, a]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      const before = await stateOf(id);
      expectDenied(await call(owner, { groupId: id, memberIds: [a, manager, owner] }), 403, 'Cannot set the group creator.');
      expect(await stateOf(id)).toEqual(before);
    });

    it('refuses a list naming a non-member with 400 naming them, changing nobody', async () => {
      const [owner, manager, a, stranger] = users('owner', 'manager', 'a', 'stranger');
      const id = await createGroup(owner, [manager, a]);
      ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
      const before = await stateOf(id);
      expectDenied(
        await call(owner, { groupId: id, memberIds: [a, manager, stranger] }),
        400,
        `memberIds[2]: ${stranger} is not a member of the group.`,
      );
      expect(await stateOf(id)).toEqual(before);
    });

    it('answers 404 for unknown, impossible and dismissed groups', async () => {
      const [owner, a] = users('owner', 'a');
      const dismissed = await createGroup(owner, [a]);
      await dismissLocally(dismissed);
      for (const groupId of ['NoSuchGroup1234567890a', 'no such group', dismissed]) {
        expectDenied(await call(owner, { groupId, memberIds: [a] }), 404, 'Unknown group.');
      }
      expect((await memberItem(dismissed, a))?.role).toBe(1);
    });

    it.each([
      [{ memberIds: ['a'] }, 'groupId: required'],
      [{ groupId: 'abc' }, 'memberIds: required'],
      [{ groupId: 'abc', memberIds: null }, 'memberIds: required'],
      [{ groupId: 'abc', memberIds: [] }, 'memberIds: expected at least one user id'],
      [{ groupId: 'abc', memberIds: ['a', null] }, 'memberIds[1]: required'],
      [{ groupId: 'abc', memberIds: ['a', ''] }, 'memberIds[1]: expected a non-empty user id'],
      [{ groupId: 'abc', memberIds: 'a' }, 'memberIds: expected an array of user ids'],
    ])('rejects %j with a 400 naming the field', async (body, message) => {
      expectDenied(await call(uniqueUserId('owner'), body), 400, message);
    });
  });

  it('allows 10 managers and refuses an 11th with 400, changing nobody', async () => {
    const owner = uniqueUserId('owner');
    const members = Array.from({ length: 12 }, (_, i) => `${owner}-m${i}`);
    const id = await createGroup(owner, members);
    ok(await api.setManager(owner, { groupId: id, memberIds: members.slice(0, 8) }));
    const before = await stateOf(id);
    expectDenied(
      await api.setManager(owner, { groupId: id, memberIds: members.slice(8, 11) }),
      400,
      "memberIds: Group's manager count is out of max manager count limit (10).",
    );
    expect(await stateOf(id)).toEqual(before);
    ok(await api.setManager(owner, { groupId: id, memberIds: members.slice(8, 10) }));
    expect((await rolesOf(id)).managerIds).toEqual(members.slice(0, 10));
  });

  it('keeps the limit under concurrency: of 12 concurrent promotions exactly 10 win', async () => {
    const owner = uniqueUserId('owner');
    const members = Array.from({ length: 12 }, (_, i) => `${owner}-m${i}`);
    const id = await createGroup(owner, members);
    const replies = await Promise.all(members.map((m) => api.setManager(owner, { groupId: id, memberIds: [m] })));

    expect(replies.filter((r) => r.status === 200)).toHaveLength(10);
    for (const r of replies.filter((x) => x.status !== 200)) {
      expectDenied(r, 400, "memberIds: Group's manager count is out of max manager count limit (10).");
    }
    const { roles, managerIds } = await rolesOf(id);
    expect(managerIds).toHaveLength(10);
    expect(Object.entries(roles).filter(([, r]) => r === 2).map(([u]) => u).sort()).toEqual([...managerIds].sort());
    expect((await eventsFor(id)).filter((e) => e.detailType === 'ManagersSet')).toHaveLength(10);
  });

  it('keeps roles and managerIds in agreement under concurrent promotions and demotions', async () => {
    const owner = uniqueUserId('owner');
    const members = Array.from({ length: 8 }, (_, i) => `${owner}-m${i}`);
    const id = await createGroup(owner, members);
    ok(await api.setManager(owner, { groupId: id, memberIds: members.slice(0, 4) }));
    const replies = await Promise.all([
      ...members.slice(0, 4).map((m) => api.removeManager(owner, { groupId: id, memberIds: [m] })),
      ...members.slice(4).map((m) => api.setManager(owner, { groupId: id, memberIds: [m] })),
      api.rename(owner, { groupId: id, name: 'Busy group' }),
    ]);
    for (const r of replies) ok(r);
    const { roles, managerIds } = await rolesOf(id);
    expect([...managerIds].sort()).toEqual(members.slice(4).sort());
    expect(Object.entries(roles).filter(([, r]) => r === 2).map(([u]) => u).sort()).toEqual(members.slice(4).sort());
  });

  it('never touches the owner: the group item and owner member keep role 0', async () => {
    const [owner, a] = users('owner', 'a');
    const id = await createGroup(owner, [a]);
    await api.setManager(owner, { groupId: id, memberIds: [owner] });
    await api.removeManager(owner, { groupId: id, memberIds: [owner] });
    expect((await getItem(keys.member(id, owner)))?.role).toBe(0);
    expect(await rolesOf(id)).toEqual({ roles: { [owner]: 0, [a]: 1 }, creatorId: owner, managerIds: [] });
  });
});

describe('malformed input never produces a 500', () => {
  const values = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.array(fc.oneof(fc.string(), fc.constant(null), fc.integer())),
    fc.object(),
  );
  const wellFormed = (reply: Reply) => {
    expect(reply.status).toBeLessThan(500);
    if (reply.status !== 200) expect(reply.body).toEqual({ code: reply.status, message: expect.any(String) });
  };

  it('POST /group/transfer, /group/set_manager, /group/remove_manager, /group/dismiss', async () => {
    const [owner, bob] = users('owner', 'bob');
    const id = await createGroup(owner, [bob]);
    const ids = fc.oneof(values, fc.constant(id), fc.constant(bob), fc.constant(owner), fc.constant([bob]), fc.constant([owner, bob]));
    await fc.assert(
      fc.asyncProperty(fc.record({ groupId: ids, userId: ids, memberIds: ids }, { requiredKeys: [] }), fc.boolean(), async (body, asOwner) => {
        const caller = asOwner ? owner : uniqueUserId('fuzz');
        wellFormed(await api.transfer(caller, body));
        wellFormed(await api.setManager(caller, body));
        wellFormed(await api.removeManager(caller, body));
        wellFormed(await api.dismiss(uniqueUserId('fuzz'), body));
      }),
      { numRuns: 40 },
    );
    // Whatever the fuzzing did, exactly one owner, and roles agree with the group item.
    const { roles, creatorId, managerIds } = await rolesOf(id);
    expect(Object.values(roles).filter((r) => r === 0)).toHaveLength(1);
    expect(roles[creatorId]).toBe(0);
    expect(Object.entries(roles).filter(([, r]) => r === 2).map(([u]) => u)).toEqual(managerIds);
  });
});
