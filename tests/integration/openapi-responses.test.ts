import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTable, localClient } from '#infra/local/dynamodb.ts';
import { contracts, responseSchemas } from '#lib/http/contracts.ts';
import { keys } from '#lib/store/keys.ts';
import { routeKey, routes } from '#lib/routes.ts';
import { patch } from '#tests/helpers/db.ts';
import { api, type Reply } from '#tests/helpers/endpoints.ts';
import { callRoute } from '#tests/helpers/lambda.ts';
import { users } from '#tests/helpers/checks.ts';

/**
 * Proof that the response contracts of docs/openapi.json (lib/http/contracts.ts) are true: a
 * realistic sequence through the real handlers on DynamoDB Local reaches every route with a success
 * and with errors, and every body is validated against the route's schema for its status (a status
 * the contract does not list fails).
 */

// A table of this file's own, without a stream (nothing relays these events). vi.hoisted runs before the imports above.
vi.hoisted(() => {
  process.env.TABLE_NAME = `sealtalk-test-openapi-${Math.random().toString(16).slice(2, 10)}`;
});

beforeAll(async () => {
  const ddb = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  await ensureTable(ddb, process.env.TABLE_NAME as string, undefined, { stream: false });
  ddb.destroy();
});

const DAY = 24 * 3600 * 1000;
const UNKNOWN = 'NoSuchGroup0000000000a';

/** Per route: the statuses (and business codes) seen, split into successes and errors. */
const seen = new Map<string, { success: number; errors: Set<string> }>();

/**
 * Validates `reply` against the contract of `key` for its status, records it, and returns it.
 * `{code: 200}` in HTTP 200 is a success; anything else (also a business code) is an error.
 */
const check = async (key: string, pending: Promise<Reply>): Promise<Reply> => {
  const reply = await pending;
  const what = `${key} → HTTP ${reply.status} ${JSON.stringify(reply.body)}`;
  const schema = responseSchemas(key).get(reply.status);
  expect(schema, `${what}: status not in the route's contract`).toBeDefined();
  const parsed = schema?.safeParse(reply.body);
  expect(parsed?.success, `${what}: ${JSON.stringify(parsed?.error?.issues)}`).toBe(true);
  const entry = seen.get(key) ?? { success: 0, errors: new Set<string>() };
  if (reply.status === 200 && reply.body.code === 200) entry.success += 1;
  else entry.errors.add(reply.status === 200 ? `200/${String(reply.body.code)}` : String(reply.status));
  seen.set(key, entry);
  return reply;
};

/** Expects a success and returns its `result`. */
const success = async <T = unknown>(key: string, pending: Promise<Reply>): Promise<T> => {
  const reply = await check(key, pending);
  expect(reply.body.code, `${key}: ${JSON.stringify(reply.body)}`).toBe(200);
  return reply.body.result as T;
};

/** Expects HTTP `status` (and, in HTTP 200, business `code`). */
const error = async (key: string, pending: Promise<Reply>, status: number, code = status) => {
  const reply = await check(key, pending);
  expect([reply.status, reply.body.code], `${key}: ${JSON.stringify(reply.body)}`).toEqual([status, code]);
};

const K = {
  create: 'POST /group/create',
  add: 'POST /group/add',
  join: 'POST /group/join',
  kick: 'POST /group/kick',
  quit: 'POST /group/quit',
  dismiss: 'POST /group/dismiss',
  transfer: 'POST /group/transfer',
  setManager: 'POST /group/set_manager',
  removeManager: 'POST /group/remove_manager',
  rename: 'POST /group/rename',
  favAdd: 'POST /group/fav',
  favRemove: 'DELETE /group/fav',
  setBulletin: 'POST /group/set_bulletin',
  getBulletin: 'GET /group/get_bulletin',
  setPortraitUri: 'POST /group/set_portrait_uri',
  setDisplayName: 'POST /group/set_display_name',
  setCertification: 'POST /group/set_certification',
  agree: 'POST /group/agree',
  noticeInfo: 'GET /group/notice_info',
  clearNotice: 'POST /group/clear_notice',
  muteAll: 'POST /group/mute_all',
  setRegularClear: 'POST /group/set_regular_clear',
  getRegularClear: 'POST /group/get_regular_clear',
  setMemberProtection: 'POST /group/set_member_protection',
  setMemberInfo: 'POST /group/set_member_info',
  getMemberInfo: 'POST /group/get_member_info',
  copyGroup: 'POST /group/copy_group',
  exitedList: 'POST /group/exited_list',
  get: 'GET /group/{id}',
  members: 'GET /group/{id}/members',
  userGroups: 'GET /user/groups',
  favGroups: 'GET /user/favgroups',
} as const;

const [owner, bob, carol, mgr, dave, eve, fay, joe, kim, limitUser, solo, shy] = users('owner', 'bob', 'carol', 'mgr', 'dave', 'eve', 'fay', 'joe', 'kim', 'full', 'solo', 'shy');
const atLimit = (userId: string) => patch(keys.profile(userId), { userId, groupCount: 500 });
const age = (groupId: string) => patch(keys.group(groupId), { createdAt: Date.now() - 8 * DAY });

let group = '';
let quiet = '';

describe('every response of every route matches its contract (docs/openapi.json)', () => {
  it('create, read, list and rename', async () => {
    // Profiles first (claims): dave wants to be asked before being added.
    await success(K.userGroups, api.userGroups({ sub: dave, name: 'Dave', group_verify: '0' }));
    await success(K.userGroups, api.userGroups({ sub: carol, name: 'Carol', phone_number: '+1-555-0100', st_account: 'carol1' }));

    const created = await success<{ id: string; userStatus: { id: string; status: number }[] }>(
      K.create,
      api.create({ sub: owner, name: 'Owner' }, { name: 'Hikers', memberIds: [bob, carol, mgr, dave] }),
    );
    group = created.id;
    expect(created.userStatus).toContainEqual({ id: dave, status: 3 });
    quiet = (await success<{ id: string }>(K.create, api.create(owner, { name: 'Quiet', memberIds: [bob] }))).id;
    await error(K.create, api.create(owner, { name: 'Nobody', memberIds: [] }), 400);
    await atLimit(limitUser);
    await error(K.create, api.create(limitUser, { name: 'Too many', memberIds: [bob] }), 200, 1000);

    await success(K.get, api.get(eve, group));
    await error(K.get, api.get(eve, UNKNOWN), 404);
    await success(K.members, api.members(bob, group));
    const paged = await check(K.members, api.membersPage(owner, group, { limit: '2' }));
    expect(paged.body.nextCursor).toBeTypeOf('string');
    await error(K.members, api.membersPage(owner, group, { limit: '0' }), 400);
    await error(K.members, api.members(eve, group), 403);
    await error(K.members, api.members(eve, UNKNOWN), 404);
    const mine = await success<unknown[]>(K.userGroups, api.userGroups(bob));
    expect(mine).toHaveLength(2);

    await success(K.rename, api.rename(owner, { groupId: group, name: 'Weekend hikers' }));
    await error(K.rename, api.rename(bob, { groupId: group, name: 'Mine' }), 400);
    await error(K.rename, api.rename(owner, { groupId: UNKNOWN, name: 'Nope' }), 404);
  });

  it('add, join, certification, notices and answers', async () => {
    const added = await success<{ id: string; status: number }[]>(K.add, api.add(bob, { groupId: group, memberIds: [fay] }));
    expect(added).toEqual([{ id: fay, status: 1 }]);
    await error(K.add, api.add(eve, { groupId: group, memberIds: [kim] }), 403);
    await error(K.add, api.add(owner, { groupId: group, memberIds: [bob] }), 400);
    await error(K.add, api.add(owner, { groupId: UNKNOWN, memberIds: [kim] }), 404);
    await error(K.add, api.add(owner, { groupId: group, memberIds: [limitUser] }), 200, 1000);

    expect(await success(K.join, api.join(joe, { groupId: group }))).toEqual({ status: 1 });
    await error(K.join, api.join(bob, { groupId: group }), 400);
    await error(K.join, api.join(eve, { groupId: UNKNOWN }), 404);
    await error(K.join, api.join(limitUser, { groupId: group }), 200, 1000);

    await success(K.setCertification, api.setCertification(owner, { groupId: group, certiStatus: 0 }));
    await error(K.setCertification, api.setCertification(bob, { groupId: group, certiStatus: 1 }), 200, 20001);
    await error(K.setCertification, api.setCertification(owner, { groupId: group, certiStatus: 5 }), 400);
    await error(K.setCertification, api.setCertification(owner, { groupId: UNKNOWN, certiStatus: 1 }), 404);
    expect(await success(K.join, api.join({ sub: kim, name: 'Kim' }, { groupId: group }))).toEqual({ status: 2 });

    const ownerNotices = await success<{ type: number; receiver: { id: string } }[]>(K.noticeInfo, api.noticeInfo(owner));
    expect(ownerNotices).toContainEqual(expect.objectContaining({ type: 2, receiver: expect.objectContaining({ id: kim }) }));
    const daveNotices = await success<{ type: number }[]>(K.noticeInfo, api.noticeInfo(dave));
    expect(daveNotices).toContainEqual(expect.objectContaining({ type: 1 }));

    await success(K.agree, api.agree(owner, { groupId: group, receiverId: kim, status: 1 }));
    await error(K.agree, api.agree(bob, { groupId: group, receiverId: kim, status: 1 }), 403);
    await error(K.agree, api.agree(owner, { groupId: group, receiverId: eve, status: 1 }), 200, 20003);
    await error(K.agree, api.agree(owner, { groupId: group, receiverId: eve }), 400);
    await error(K.agree, api.agree(owner, { groupId: UNKNOWN, receiverId: eve, status: 1 }), 404);
    await success(K.agree, api.agree(dave, { groupId: group, receiverId: dave, status: 1 }));
    // An invitee who reached the group limit meanwhile cannot accept.
    await success(K.userGroups, api.userGroups({ sub: shy, group_verify: '0' }));
    expect(await success(K.add, api.add(owner, { groupId: group, memberIds: [shy] }))).toEqual([{ id: shy, status: 3 }]);
    await atLimit(shy);
    await error(K.agree, api.agree(shy, { groupId: group, receiverId: shy, status: 1 }), 200, 1000);
    await success(K.noticeInfo, api.noticeInfo(owner));

    await success(K.clearNotice, api.clearNotice(owner));
    await error(K.clearNotice, api.clearNotice(owner, '{not json'), 400);
    expect(await success(K.noticeInfo, api.noticeInfo(owner))).toEqual([]);
    await success(K.setCertification, api.setCertification(owner, { groupId: group, certiStatus: 1 }));
  });

  it('managers, bulletins and group settings', async () => {
    await success(K.setManager, api.setManager(owner, { groupId: group, memberIds: [mgr] }));
    await error(K.setManager, api.setManager(bob, { groupId: group, memberIds: [carol] }), 401);
    await error(K.setManager, api.setManager(eve, { groupId: group, memberIds: [carol] }), 402);
    await error(K.setManager, api.setManager(owner, { groupId: group, memberIds: [owner] }), 403);
    await error(K.setManager, api.setManager(owner, { groupId: group, memberIds: [eve] }), 400);
    await error(K.setManager, api.setManager(owner, { groupId: UNKNOWN, memberIds: [bob] }), 404);
    await success(K.setManager, api.setManager(owner, { groupId: group, memberIds: [bob] }));
    await success(K.removeManager, api.removeManager(owner, { groupId: group, memberIds: [bob] }));
    await error(K.removeManager, api.removeManager(bob, { groupId: group, memberIds: [mgr] }), 401);
    await error(K.removeManager, api.removeManager(eve, { groupId: group, memberIds: [mgr] }), 402);
    await error(K.removeManager, api.removeManager(owner, { groupId: group, memberIds: [owner] }), 403);

    await error(K.getBulletin, api.getBulletin(bob, { groupId: group }), 402);
    await success(K.setBulletin, api.setBulletin(mgr, { groupId: group, content: 'Meet at 8 <sharp>' }));
    await error(K.setBulletin, api.setBulletin(bob, { groupId: group, content: 'Mine' }), 403);
    await error(K.setBulletin, api.setBulletin(mgr, { groupId: group }), 400);
    await error(K.setBulletin, api.setBulletin(mgr, { groupId: UNKNOWN, content: 'x' }), 404);
    const bulletin = await success<{ id: number }>(K.getBulletin, api.getBulletin(eve, { id: group }));
    expect(bulletin.id).toBe(1);
    await error(K.getBulletin, api.getBulletin(eve, {}), 400);
    await error(K.getBulletin, api.getBulletin(eve, { groupId: UNKNOWN }), 404);
    await success(K.get, api.get(bob, group));

    await success(K.setPortraitUri, api.setPortraitUri(owner, { groupId: group, portraitUri: 'https://example.com/hikers.png' }));
    await error(K.setPortraitUri, api.setPortraitUri(owner, { groupId: group, portraitUri: 'not a url' }), 400);
    await error(K.setPortraitUri, api.setPortraitUri(owner, { groupId: UNKNOWN, portraitUri: 'https://example.com/x.png' }), 404);

    await success(K.setDisplayName, api.setDisplayName(bob, { groupId: group, displayName: 'Bobby' }));
    await error(K.setDisplayName, api.setDisplayName(eve, { groupId: group, displayName: 'Eve' }), 404);
    await error(K.setDisplayName, api.setDisplayName(bob, { groupId: group }), 400);

    await success(K.muteAll, api.muteAll(owner, { groupId: group, muteStatus: 1, userId: bob }));
    await error(K.muteAll, api.muteAll(bob, { groupId: group, muteStatus: 0 }), 403);
    await error(K.muteAll, api.muteAll(owner, { groupId: group, muteStatus: 5 }), 400);
    await error(K.muteAll, api.muteAll(owner, { groupId: UNKNOWN, muteStatus: 0 }), 404);
    await success(K.get, api.get(bob, group));
    await success(K.muteAll, api.muteAll(mgr, { groupId: group, muteStatus: 0 }));

    await success(K.setRegularClear, api.setRegularClear(owner, { groupId: group, clearStatus: 3 }));
    await error(K.setRegularClear, api.setRegularClear(bob, { groupId: group, clearStatus: 7 }), 400);
    await error(K.setRegularClear, api.setRegularClear(owner, { groupId: UNKNOWN, clearStatus: 7 }), 404);
    expect(await success(K.getRegularClear, api.getRegularClear(eve, { groupId: group }))).toEqual({ clearStatus: 3 });
    await error(K.getRegularClear, api.getRegularClear(eve, { groupId: UNKNOWN }), 404);
    await error(K.getRegularClear, api.getRegularClear(eve, {}), 400);
    await success(K.setRegularClear, api.setRegularClear(owner, { groupId: group, clearStatus: 0 }));
  });

  it('member cards, member protection and saved groups', async () => {
    await success(K.setMemberInfo, api.setMemberInfo(carol, { groupId: group, memberId: carol, groupNickname: 'Caz', phone: '555', memberDesc: ['guide'] }));
    await error(K.setMemberInfo, api.setMemberInfo(bob, { groupId: group, memberId: carol, region: 'x' }), 403);
    await error(K.setMemberInfo, api.setMemberInfo(owner, { groupId: group, memberId: eve, region: 'x' }), 400);
    await error(K.setMemberInfo, api.setMemberInfo(owner, { groupId: UNKNOWN, memberId: bob, region: 'x' }), 404);

    await success(K.setMemberProtection, api.setMemberProtection(mgr, { groupId: group, memberProtection: 1 }));
    await error(K.setMemberProtection, api.setMemberProtection(bob, { groupId: group, memberProtection: 0 }), 403);
    await error(K.setMemberProtection, api.setMemberProtection(owner, { groupId: group, memberProtection: 2 }), 400);
    await error(K.setMemberProtection, api.setMemberProtection(owner, { groupId: UNKNOWN, memberProtection: 0 }), 404);

    // Protection on: a plain member gets another member's contacts blanked (and the list without them).
    const hidden = await success<{ phone: string; memberDesc: string[] }>(K.getMemberInfo, api.getMemberInfo(bob, { groupId: group, memberId: carol }));
    expect(hidden).toMatchObject({ phone: '', memberDesc: ['guide'] });
    expect(await success(K.getMemberInfo, api.getMemberInfo(owner, { groupId: group, memberId: carol }))).toMatchObject({ phone: '555' });
    await success(K.getMemberInfo, api.getMemberInfo(bob, { groupId: group, memberId: bob }));
    await error(K.getMemberInfo, api.getMemberInfo(eve, { groupId: group, memberId: bob }), 403);
    await error(K.getMemberInfo, api.getMemberInfo(bob, { groupId: group, memberId: eve }), 400);
    await error(K.getMemberInfo, api.getMemberInfo(bob, { groupId: UNKNOWN, memberId: bob }), 404);
    const listed = await success<{ displayName: string; groupNickname: string; user: { id: string; phone?: string } }[]>(K.members, api.members(bob, group));
    const carolListed = listed.find((m) => m.user.id === carol);
    expect(carolListed).toMatchObject({ displayName: 'Caz', groupNickname: 'Caz' });
    expect(carolListed?.user.phone).toBeUndefined();
    await success(K.members, api.members(owner, group));

    await success(K.favAdd, api.favAdd(bob, { groupId: group }));
    await success(K.favAdd, api.favAdd(bob, { groupId: quiet }));
    await error(K.favAdd, api.favAdd(bob, { groupId: group }), 405);
    await error(K.favAdd, api.favAdd(eve, { groupId: group }), 403);
    await error(K.favAdd, api.favAdd(bob, { groupId: UNKNOWN }), 404);
    await error(K.favAdd, api.favAdd(bob, {}), 400);
    const all = await success<{ list: unknown[]; total: number }>(K.favGroups, api.favGroups(bob));
    expect(all.total).toBe(2);
    const paged = await success<{ list: unknown[]; limit?: string; offset?: string }>(K.favGroups, api.favGroups(bob, { limit: '1', offset: '1' }));
    expect(paged).toMatchObject({ limit: '1', offset: '1' });
    expect(paged.list).toHaveLength(1);
    await success(K.favRemove, api.favRemove(bob, { groupId: quiet }));
    await error(K.favRemove, api.favRemove(bob, {}), 400);
  });

  it('kick, quit, exited list and transfer', async () => {
    await success(K.kick, api.kick(mgr, { groupId: group, memberIds: [fay] }));
    await error(K.kick, api.kick(bob, { groupId: group, memberIds: [joe] }), 403);
    await error(K.kick, api.kick(owner, { groupId: group, memberIds: [owner] }), 400);
    await error(K.kick, api.kick(mgr, { groupId: group, memberIds: [owner] }), 405);
    await error(K.kick, api.kick(owner, { groupId: UNKNOWN, memberIds: [bob] }), 404);

    await success(K.quit, api.quit(joe, { groupId: group }));
    await error(K.quit, api.quit(eve, { groupId: group }), 403);
    await error(K.quit, api.quit(eve, { groupId: UNKNOWN }), 404);
    await error(K.quit, api.quit(eve, {}), 400);

    const exited = await success<{ quitUserId: string; quitReason: number }[]>(K.exitedList, api.exitedList(mgr, { groupId: group }));
    expect(exited.map((e) => [e.quitUserId, e.quitReason])).toEqual([
      [joe, 2],
      [fay, 1],
    ]);
    await error(K.exitedList, api.exitedList(bob, { groupId: group }), 400);
    await error(K.exitedList, api.exitedList(eve, { groupId: group }), 403);
    await error(K.exitedList, api.exitedList(eve, { groupId: UNKNOWN }), 404);

    await error(K.transfer, api.transfer(owner, { groupId: group, userId: owner }), 403);
    await error(K.transfer, api.transfer(bob, { groupId: group, userId: carol }), 400);
    await error(K.transfer, api.transfer(owner, { groupId: UNKNOWN, userId: bob }), 404);
    await success(K.transfer, api.transfer(owner, { groupId: group, userId: mgr }));
  });

  it('copies: success and every business code', async () => {
    await error(K.copyGroup, api.copyGroup(bob, { groupId: group, name: 'Copy' }), 200, 20004);
    await age(group);
    await error(K.copyGroup, api.copyGroup(eve, { groupId: group, name: 'Copy' }), 403);
    await error(K.copyGroup, api.copyGroup(bob, { groupId: group, name: '' }), 400);
    await error(K.copyGroup, api.copyGroup(bob, { groupId: UNKNOWN, name: 'Copy' }), 200, 20006);
    await atLimit(carol);
    await error(K.copyGroup, api.copyGroup(carol, { groupId: group, name: 'Copy' }), 200, 1000);
    await patch(keys.profile(carol), { groupCount: 1 });
    const copy = await success<{ id: string; userStatus: unknown[] }>(K.copyGroup, api.copyGroup(bob, { groupId: group, name: 'Copy' }));
    expect(copy.userStatus.length).toBeGreaterThan(1);
    await error(K.copyGroup, api.copyGroup(bob, { groupId: group, name: 'Copy again' }), 200, 20005);

    const lonely = (await success<{ id: string }>(K.create, api.create(solo, { name: 'Lonely', memberIds: [eve] }))).id;
    await success(K.quit, api.quit(eve, { groupId: lonely }));
    await age(lonely);
    await error(K.copyGroup, api.copyGroup(solo, { groupId: lonely, name: 'Copy' }), 200, 20007);
  });

  it('dismiss, and a dismissed group as readers see it', async () => {
    await error(K.dismiss, api.dismiss(owner, { groupId: group }), 400);
    await error(K.dismiss, api.dismiss(mgr, {}), 400);
    await success(K.dismiss, api.dismiss(mgr, { groupId: group }));
    await error(K.dismiss, api.dismiss(mgr, { groupId: group }), 404);
    const dismissed = await success<{ deletedAt: string | null }>(K.get, api.get(bob, group));
    expect(dismissed.deletedAt).toBeTypeOf('string');
    await success(K.getRegularClear, api.getRegularClear(bob, { groupId: group }));
    await success(K.getBulletin, api.getBulletin(bob, { groupId: group }));
    await error(K.rename, api.rename(mgr, { groupId: group, name: 'Back' }), 404);
  });

  it('every route answers a caller it cannot identify with the authorizer 401', async () => {
    const nobody = 'x'.repeat(65); // longer than any user id: the claims are refused
    for (const route of routes) {
      const path = route.path.replace('{id}', group);
      const key = routeKey(route);
      const reply = await check(key, callRoute<Reply['body']>(route.method, path, { as: nobody, body: route.method === 'GET' ? undefined : { groupId: group } }));
      expect(reply.body, key).toEqual({ message: 'Unauthorized' });
    }
  });
});

afterAll(() => {
  // OPENAPI_COVERAGE=1: prints what each route was seen answering, and the contract's statuses not reached.
  if (!process.env.OPENAPI_COVERAGE) return;
  for (const route of routes) {
    const key = routeKey(route);
    const entry = seen.get(key);
    const unseen = [...responseSchemas(key).keys()].filter((s) => s !== 200 && !entry?.errors.has(String(s)));
    console.log(`${key}: ${entry?.success ?? 0} ok; errors ${[...(entry?.errors ?? [])].sort().join(' ')}; not reached ${unseen.join(' ')}`);
  }
});

describe('coverage of the sequence above', () => {
  it('reached every route with a success, the 401, an error of its own, and every business code it declares', () => {
    for (const route of routes) {
      const key = routeKey(route);
      const entry = seen.get(key);
      const contract = contracts[key];
      expect(entry?.success ?? 0, `${key}: no success seen`).toBeGreaterThan(0);
      expect(entry?.errors.has('401'), `${key}: no 401 seen`).toBe(true);
      // GET notice_info, user/groups and user/favgroups can only fail with the authorizer's 401 (or a 500).
      if (contract && (contract.errors.length > 0 || contract.business.length > 0)) {
        expect([...(entry?.errors ?? [])].filter((e) => e !== '401').length, `${key}: no error besides 401 seen`).toBeGreaterThan(0);
      }
      for (const code of contract?.business ?? []) expect(entry?.errors.has(`200/${code}`), `${key}: business code ${code} not seen`).toBe(true);
    }
  });
});
