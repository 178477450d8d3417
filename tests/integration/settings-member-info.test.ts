import { describe, expect, it } from 'vitest';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, memberItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { dismissLocally, expectDenied, ok, stateOf, users } from '#tests/helpers/checks.ts';

/** A group with an owner, a manager (through set_manager) and two plain members. */
const groupWithRoles = async () => {
  const [owner, manager, member, other] = users('owner', 'manager', 'member', 'other');
  const id = await createGroup(owner, [manager, member, other]);
  ok(await api.setManager(owner, { groupId: id, memberIds: [manager] }));
  return { id, owner, manager, member, other };
};

const FULL = {
  groupNickname: 'Bobby',
  region: '86',
  phone: '13800000000',
  WeChat: 'bob_wx',
  Alipay: 'bob@alipay',
  memberDesc: ['likes hiking', 'vegetarian'],
};

const EMPTY = { groupNickname: '', region: '', phone: '', WeChat: '', Alipay: '', memberDesc: [] };

const infoOf = async (as: string, groupId: string, memberId: string) => {
  const reply = await api.getMemberInfo(as, { groupId, memberId });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.result;
};

describe('POST /group/set_member_info', () => {
  it('lets a member set their own card; groupNickname also becomes displayName; no event', async () => {
    const { id, member } = await groupWithRoles();
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, ...FULL }));

    expect(await memberItem(id, member)).toMatchObject({ ...FULL, displayName: 'Bobby', role: 1 });
    expect(await infoOf(member, id, member)).toEqual(FULL);
    const listed = (await api.members(member, id)).body.result as { user: { id: string }; displayName: string; groupNickname: string }[];
    expect(listed.find((m) => m.user.id === member)).toMatchObject({ displayName: 'Bobby', groupNickname: 'Bobby' });
    expect((await eventsFor(id)).map((e) => e.detailType)).toEqual(['GroupCreated', 'ManagersSet']);
  });

  it('lets the owner and a manager set a member\'s card', async () => {
    const { id, owner, manager, member } = await groupWithRoles();
    ok(await api.setMemberInfo(owner, { groupId: id, memberId: member, region: '1' }));
    ok(await api.setMemberInfo(manager, { groupId: id, memberId: member, phone: '555' }));
    ok(await api.setMemberInfo(manager, { groupId: id, memberId: owner, WeChat: 'boss' }));
    expect(await infoOf(member, id, member)).toMatchObject({ region: '1', phone: '555' });
    expect(await infoOf(owner, id, owner)).toMatchObject({ WeChat: 'boss' });
  });

  it('changes only the fields given; null leaves a field as is; "" and [] clear it (what iOS sends)', async () => {
    const { id, member } = await groupWithRoles();
    ok(await api.setDisplayName(member, { groupId: id, displayName: 'Card name' }));
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, ...FULL }));
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, region: '44', phone: null }));
    expect(await infoOf(member, id, member)).toEqual({ ...FULL, region: '44' });

    // Without groupNickname, displayName is left as is (the reference overwrote it).
    ok(await api.setDisplayName(member, { groupId: id, displayName: 'Other name' }));
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, phone: '1' }));
    expect((await memberItem(id, member))?.displayName).toBe('Other name');

    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, ...EMPTY }));
    expect(await infoOf(member, id, member)).toEqual(EMPTY);
    expect((await memberItem(id, member))?.displayName).toBe('');
  });

  it('escapes groupNickname and counts it after escaping (32 max); 33 is a 400', async () => {
    const { id, member } = await groupWithRoles();
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, groupNickname: '<b>Bob</b>' }));
    expect(await memberItem(id, member)).toMatchObject({ groupNickname: '&lt;b&gt;Bob&lt;/b&gt;', displayName: '&lt;b&gt;Bob&lt;/b&gt;' });
    const before = await stateOf(id);
    expectDenied(
      await api.setMemberInfo(member, { groupId: id, memberId: member, groupNickname: 'x'.repeat(33) }),
      400,
      'groupNickname: Length of group nickname invalid.',
    );
    expect(await stateOf(id)).toEqual(before);
  });

  it('accepts every field at its limit', async () => {
    const { id, member } = await groupWithRoles();
    const atLimit = {
      groupNickname: 'n'.repeat(32),
      region: 'r'.repeat(8),
      phone: 'p'.repeat(32),
      WeChat: 'w'.repeat(64),
      Alipay: 'a'.repeat(64),
      memberDesc: Array.from({ length: 10 }, () => '😀'.repeat(80)),
    };
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, ...atLimit }));
    expect(await infoOf(member, id, member)).toEqual(atLimit);
  });

  it.each([
    [{ region: 'r'.repeat(9) }, 'region: expected at most 8 characters'],
    [{ phone: 'p'.repeat(33) }, 'phone: expected at most 32 characters'],
    [{ WeChat: 'w'.repeat(65) }, 'WeChat: expected at most 64 characters'],
    [{ Alipay: 'a'.repeat(65) }, 'Alipay: expected at most 64 characters'],
    [{ memberDesc: Array.from({ length: 11 }, () => 'x') }, 'memberDesc: expected at most 10 entries'],
    [{ memberDesc: ['ok', 'd'.repeat(81)] }, 'memberDesc[1]: expected at most 80 characters'],
    [{ memberDesc: ['ok', null] }, 'memberDesc[1]: expected a string'],
    [{ memberDesc: 'not an array' }, 'memberDesc: expected an array of strings'],
    [{ region: 5 }, 'region: expected a string'],
    [{ groupNickname: 5 }, 'groupNickname: expected a string'],
  ])('rejects %j with a 400 naming the field, writing nothing', async (fields, message) => {
    const { id, member } = await groupWithRoles();
    const before = await stateOf(id);
    expectDenied(await api.setMemberInfo(member, { groupId: id, memberId: member, ...fields }), 400, message);
    expect(await stateOf(id)).toEqual(before);
  });

  it.each([
    [{ memberId: 'x' }, 'groupId: required'],
    [{ groupId: 'abc' }, 'memberId: required'],
    [{ groupId: 'abc', memberId: '' }, 'memberId: expected a non-empty user id'],
  ])('rejects %j with a 400 naming the id field', async (body, message) => {
    expectDenied(await api.setMemberInfo(uniqueUserId('member'), body), 400, message);
  });

  it('refuses a plain member setting another member\'s card, and non-members, with HTTP 403', async () => {
    const { id, member, other, owner } = await groupWithRoles();
    const before = await stateOf(id);
    for (const [caller, target] of [
      [member, other],
      [member, owner],
      [uniqueUserId('stranger'), member],
    ] as const) {
      expectDenied(
        await api.setMemberInfo(caller, { groupId: id, memberId: target, region: 'x' }),
        403,
        'Only the member themself, the group owner or a manager can set member info.',
      );
    }
    expect(await stateOf(id)).toEqual(before);
  });

  it('answers 400 "memberId: Not a group member." when the target is not a member', async () => {
    const { id, owner } = await groupWithRoles();
    const stranger = uniqueUserId('stranger');
    expectDenied(await api.setMemberInfo(owner, { groupId: id, memberId: stranger, region: 'x' }), 400, 'memberId: Not a group member.');
    // A non-member naming themself is told the same.
    expectDenied(await api.setMemberInfo(stranger, { groupId: id, memberId: stranger, region: 'x' }), 400, 'memberId: Not a group member.');
    expect(await memberItem(id, stranger)).toBeUndefined();
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const { id, member } = await groupWithRoles();
    await dismissLocally(id);
    const before = await stateOf(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.setMemberInfo(member, { groupId, memberId: member, region: 'x' }), 404, 'Unknown group.');
    }
    expect(await stateOf(id)).toEqual(before);
  });
});

describe('POST /group/get_member_info', () => {
  it('answers "" strings and memberDesc [] for a card never set', async () => {
    const { id, owner, member } = await groupWithRoles();
    const reply = await api.getMemberInfo(owner, { groupId: id, memberId: member });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200, result: EMPTY });
  });

  it('lets any member read a card while protection is off', async () => {
    const { id, member, other } = await groupWithRoles();
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, ...FULL }));
    expect(await infoOf(other, id, member)).toEqual(FULL);
  });

  it('hides phone, WeChat and Alipay from other plain members while protection is on', async () => {
    const { id, owner, manager, member, other } = await groupWithRoles();
    ok(await api.setMemberInfo(member, { groupId: id, memberId: member, ...FULL }));
    ok(await api.setMemberInfo(manager, { groupId: id, memberId: manager, ...FULL }));
    ok(await api.setMemberProtection(owner, { groupId: id, memberProtection: 1 }));

    const hidden = { ...FULL, phone: '', WeChat: '', Alipay: '' };
    expect(await infoOf(other, id, member)).toEqual(hidden);
    expect(await infoOf(other, id, manager)).toEqual(hidden);
    // The member themself, the owner and managers see everything.
    expect(await infoOf(member, id, member)).toEqual(FULL);
    expect(await infoOf(owner, id, member)).toEqual(FULL);
    expect(await infoOf(manager, id, member)).toEqual(FULL);

    ok(await api.setMemberProtection(owner, { groupId: id, memberProtection: 0 }));
    expect(await infoOf(other, id, member)).toEqual(FULL);
  });

  it('refuses non-members with HTTP 403', async () => {
    const { id, member } = await groupWithRoles();
    expectDenied(await api.getMemberInfo(uniqueUserId('stranger'), { groupId: id, memberId: member }), 403, 'Only group member can get group member info.');
  });

  it('answers 400 "memberId: Not a group member." for a target who is not a member', async () => {
    const { id, member } = await groupWithRoles();
    expectDenied(await api.getMemberInfo(member, { groupId: id, memberId: uniqueUserId('stranger') }), 400, 'memberId: Not a group member.');
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const { id, member } = await groupWithRoles();
    await dismissLocally(id);
    for (const groupId of ['NoSuchGroup123', 'not/a/group', id]) {
      expectDenied(await api.getMemberInfo(member, { groupId, memberId: member }), 404, 'Unknown group.');
    }
  });

  it.each([
    [{ memberId: 'x' }, 'groupId: required'],
    [{ groupId: 'abc' }, 'memberId: required'],
    [{ groupId: 'abc', memberId: null }, 'memberId: required'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    expectDenied(await api.getMemberInfo(uniqueUserId('member'), body), 400, message);
  });
});
