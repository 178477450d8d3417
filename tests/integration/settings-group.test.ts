import { describe, expect, it } from 'vitest';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, groupItem, memberItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { dismissLocally, expectDenied, ok, stateOf, users } from '#tests/helpers/checks.ts';

/** Everything of a group a denied request must leave as it was: the group item, members, events. */
/** A group with an owner, a manager (through set_manager) and a plain member. */
const groupWithRoles = async () => {
  const [owner, manager, member] = users('owner', 'manager', 'member');
  const id = await createGroup(owner, [manager, member]);
  ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
  return { id, owner, manager, member };
};

const typesOf = async (groupId: string) => (await eventsFor(groupId)).map((e) => e.detailType);

describe('POST /group/set_portrait_uri', () => {
  it('lets the owner set the portrait: GET /group/{id} shows it, one GroupPortraitChanged', async () => {
    const { id, owner, member } = await groupWithRoles();
    const portraitUri = 'https://cdn.example.com/p/1.png';
    ok(await api.setPortraitUri(owner, { groupId: id, portraitUri }));

    expect((await api.get(member, id)).body.result).toMatchObject({ portraitUri });
    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'ManagersSet', 'GroupPortraitChanged']);
    expect(events[2]?.detail).toEqual({ groupId: id, operatorId: owner, portraitUri, timestamp: expect.any(Number) });
  });

  it('accepts http URLs of 12 and 256 characters', async () => {
    const { id, owner } = await groupWithRoles();
    ok(await api.setPortraitUri(owner, { groupId: id, portraitUri: 'http://a.co/' }));
    const long = `http://a.co/${'a'.repeat(244)}`;
    expect(long).toHaveLength(256);
    ok(await api.setPortraitUri(owner, { groupId: id, portraitUri: long }));
    expect((await groupItem(id))?.portraitUri).toBe(long);
  });

  it.each([
    ['abcd.com/abcdefgh', 'portraitUri: Invalid portraitUri format.'],
    ['ftp://example.com/p.png', 'portraitUri: Invalid portraitUri format.'],
    ['http://', 'portraitUri: Invalid portraitUri format.'],
    ['https://exa mple.com/p.png', 'portraitUri: Invalid portraitUri format.'],
    ['http://a.co', 'portraitUri: Length of portraitUri invalid.'],
    [`http://a.co/${'a'.repeat(256)}`, 'portraitUri: Length of portraitUri invalid.'],
  ])('refuses %s with a 400, writing nothing', async (portraitUri, message) => {
    const { id, owner } = await groupWithRoles();
    const before = await stateOf(id);
    expectDenied(await api.setPortraitUri(owner, { groupId: id, portraitUri }), 400, message);
    expect(await stateOf(id)).toEqual(before);
  });

  it('refuses managers, plain members and non-members with the reference\'s 400, writing nothing', async () => {
    const { id, manager, member } = await groupWithRoles();
    const before = await stateOf(id);
    for (const caller of [manager, member, uniqueUserId('stranger')]) {
      expectDenied(
        await api.setPortraitUri(caller, { groupId: id, portraitUri: 'https://example.com/x.png' }),
        400,
        'Unknown group or not creator.',
      );
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const { id, owner } = await groupWithRoles();
    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.setPortraitUri(owner, { groupId, portraitUri: 'https://example.com/x.png' }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ portraitUri: 'https://example.com/x.png' }, 'groupId: required'],
    [{ groupId: 'abc' }, 'portraitUri: required'],
    [{ groupId: 'abc', portraitUri: '' }, 'portraitUri: expected a non-empty portrait URI'],
    [{ groupId: 'abc', portraitUri: null }, 'portraitUri: required'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.setPortraitUri(uniqueUserId('owner'), body), 400, message);
  });
});

describe('POST /group/set_display_name', () => {
  it('sets the caller\'s own displayName only (escaped), visible in the member list', async () => {
    const { id, member } = await groupWithRoles();
    const before = await memberItem(id, member);
    ok(await api.setDisplayName(member, { groupId: id, displayName: '<i>Bob</i>' }));

    const after = await memberItem(id, member);
    expect(after).toMatchObject({ displayName: '&lt;i&gt;Bob&lt;/i&gt;', groupNickname: before?.groupNickname, role: 1 });
    expect(after?.timestamp).toBe(before?.timestamp);
    const listed = (await api.members(member, id)).body.result as { user: { id: string }; displayName: string }[];
    expect(listed.find((m) => m.user.id === member)?.displayName).toBe('&lt;i&gt;Bob&lt;/i&gt;');
    expect(await typesOf(id)).toEqual(['GroupCreated', 'ManagersSet']);
  });

  it('accepts an empty name and 32 characters; refuses 33', async () => {
    const { id, owner } = await groupWithRoles();
    ok(await api.setDisplayName(owner, { groupId: id, displayName: 'x'.repeat(32) }));
    expect((await memberItem(id, owner))?.displayName).toBe('x'.repeat(32));
    ok(await api.setDisplayName(owner, { groupId: id, displayName: '' }));
    expect((await memberItem(id, owner))?.displayName).toBe('');
    const before = await stateOf(id);
    expectDenied(await api.setDisplayName(owner, { groupId: id, displayName: 'x'.repeat(33) }), 400, 'displayName: Length of display name invalid.');
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 "Unknown group." to a non-member and for unknown, impossible and dismissed groups', async () => {
    const { id, member } = await groupWithRoles();
    const stranger = uniqueUserId('stranger');
    expectDenied(await api.setDisplayName(stranger, { groupId: id, displayName: 'me' }), 404, 'Unknown group.');
    expect(await memberItem(id, stranger)).toBeUndefined();

    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.setDisplayName(member, { groupId, displayName: 'me' }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ displayName: 'x' }, 'groupId: required'],
    [{ groupId: 'abc' }, 'displayName: required'],
    [{ groupId: 'abc', displayName: null }, 'displayName: required'],
    [{ groupId: 'abc', displayName: 3 }, 'displayName: expected a string'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.setDisplayName(uniqueUserId('member'), body), 400, message);
  });
});

describe('POST /group/set_certification', () => {
  it('lets the owner and a manager switch approval on (0) and off (1), with no event', async () => {
    const { id, owner, manager, member } = await groupWithRoles();
    ok(await api.setCertification(owner, { groupId: id, certiStatus: 0 }));
    expect((await api.get(member, id)).body.result).toMatchObject({ certiStatus: 0 });
    ok(await api.setCertification(manager, { groupId: id, certiStatus: 1 }));
    expect((await groupItem(id))?.certiStatus).toBe(1);
    ok(await api.setCertification(manager, { groupId: id, certiStatus: 1 }));
    expect(await typesOf(id)).toEqual(['GroupCreated', 'ManagersSet']);
  });

  it('answers plain members and non-members with HTTP 200 code 20001, writing nothing', async () => {
    const { id, member } = await groupWithRoles();
    const before = await stateOf(id);
    for (const caller of [member, uniqueUserId('stranger')]) {
      const reply = await api.setCertification(caller, { groupId: id, certiStatus: 0 });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ code: 20001, message: 'No permission' });
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const { id, owner } = await groupWithRoles();
    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.setCertification(owner, { groupId, certiStatus: 0 }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ groupId: 'abc' }, 'certiStatus: required'],
    [{ groupId: 'abc', certiStatus: null }, 'certiStatus: required'],
    [{ groupId: 'abc', certiStatus: 2 }, 'certiStatus: expected 0 or 1'],
    [{ groupId: 'abc', certiStatus: '0' }, 'certiStatus: expected 0 or 1'],
    [{ groupId: 'abc', certiStatus: true }, 'certiStatus: expected 0 or 1'],
    [{ certiStatus: 0 }, 'groupId: required'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.setCertification(uniqueUserId('owner'), body), 400, message);
  });

  it('is honoured by join: with approval on, a join asks a manager (status 2)', async () => {
    const { id, owner } = await groupWithRoles();
    ok(await api.setCertification(owner, { groupId: id, certiStatus: 0 }));
    const reply = await api.join(uniqueUserId('joiner'), { groupId: id });
    expect(reply.body).toEqual({ code: 200, result: { status: 2 } });
  });
});

describe('POST /group/set_member_protection', () => {
  it('lets the owner switch it on and a manager off: one MemberProtectionChanged per change', async () => {
    const { id, owner, manager, member } = await groupWithRoles();
    ok(await api.setMemberProtection(owner, { groupId: id, memberProtection: 1 }));
    expect((await api.get(member, id)).body.result).toMatchObject({ memberProtection: 1 });
    ok(await api.setMemberProtection(manager, { groupId: id, memberProtection: 0 }));
    expect((await groupItem(id))?.memberProtection).toBe(0);

    const events = (await eventsFor(id)).filter((e) => e.detailType === 'MemberProtectionChanged');
    expect(events.map((e) => e.detail)).toEqual([
      { groupId: id, operatorId: owner, memberProtection: 1, timestamp: expect.any(Number) },
      { groupId: id, operatorId: manager, memberProtection: 0, timestamp: expect.any(Number) },
    ]);
  });

  it('answers 200 and writes nothing when the value does not change', async () => {
    const { id, owner } = await groupWithRoles();
    const before = await stateOf(id);
    ok(await api.setMemberProtection(owner, { groupId: id, memberProtection: 0 }));
    expect(await stateOf(id)).toEqual(before);
  });

  it('announces exactly one change when the same switch is sent concurrently', async () => {
    const { id, owner, manager } = await groupWithRoles();
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => api.setMemberProtection(i % 2 ? manager : owner, { groupId: id, memberProtection: 1 })),
    );
    for (const reply of replies) ok(reply);
    expect((await groupItem(id))?.memberProtection).toBe(1);
    expect((await typesOf(id)).filter((t) => t === 'MemberProtectionChanged')).toHaveLength(1);
  });

  it('refuses plain members and non-members with HTTP 403, writing nothing', async () => {
    const { id, member } = await groupWithRoles();
    const before = await stateOf(id);
    for (const caller of [member, uniqueUserId('stranger')]) {
      expectDenied(
        await api.setMemberProtection(caller, { groupId: id, memberProtection: 1 }),
        403,
        'Only the group owner or a manager can set member protection.',
      );
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const { id, owner } = await groupWithRoles();
    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.setMemberProtection(owner, { groupId, memberProtection: 1 }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('refuses a manager removed meanwhile: the role is read again, 403', async () => {
    const { id, owner, manager } = await groupWithRoles();
    ok(await api.removeManager(owner, { groupId: id, memberIds: [manager] }));
    expectDenied(
      await api.setMemberProtection(manager, { groupId: id, memberProtection: 1 }),
      403,
      'Only the group owner or a manager can set member protection.',
    );
  });

  it.each([
    [{ groupId: 'abc' }, 'memberProtection: required'],
    [{ groupId: 'abc', memberProtection: 3 }, 'memberProtection: expected 0 or 1'],
    [{ groupId: 'abc', memberProtection: '1' }, 'memberProtection: expected 0 or 1'],
    [{ memberProtection: 1 }, 'groupId: required'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.setMemberProtection(uniqueUserId('owner'), body), 400, message);
  });
});
