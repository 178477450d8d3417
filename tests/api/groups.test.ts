import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '#tests/helpers/gateway.ts';
import type { ApiClient } from '#tests/helpers/api.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * A client's session, end to end over HTTP (reference §5.1, §5.9, §5.16, §5.17 and GET /user/groups):
 * create → read → members → rename → my groups. Deep rules live in the integration tests.
 */

interface Envelope<T = unknown> {
  code: number;
  result?: T;
  message?: string;
}
interface Created {
  id: string;
  userStatus: { id: string; status: number }[];
}
interface Member {
  role: number;
  displayName: string;
  user: { id: string; nickname: string; portraitUri: string };
}
interface MyGroup {
  role: number;
  displayName: string;
  group: Record<string, unknown> & { id: string; name: string };
}

let gw: TestGateway;
const aliceId = uniqueUserId('alice');
const bobId = uniqueUserId('bob');
const carolId = uniqueUserId('carol'); // never calls the API: no profile
const daveId = uniqueUserId('dave');
let alice: ApiClient;
let bob: ApiClient;
let dave: ApiClient;
let groupId: string;

beforeAll(async () => {
  gw = await startTestGateway();
  alice = await gw.as(aliceId, { name: 'Alice', picture: 'https://img.example/alice.png' });
  bob = await gw.as(bobId, { name: 'Bob' });
  dave = await gw.as(daveId, { name: 'Dave' });
  // Bob has used the app before: his profile claims are known.
  expect((await bob.get('/user/groups')).body).toEqual({ code: 200, result: [] });
});
afterAll(async () => gw?.close());

describe('a group, from creation to my groups', () => {
  it('POST /group/create makes the caller the owner and adds the members', async () => {
    const res = await alice.post<Envelope<Created>>('/group/create', { name: 'Hikers', memberIds: [bobId, carolId] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const result = res.body.result as Created;
    expect(res.body.code).toBe(200);
    expect(result.id).toMatch(/^[0-9A-Za-z]+$/);
    expect(result.userStatus).toEqual(
      expect.arrayContaining([
        { id: aliceId, status: 1 },
        { id: bobId, status: 1 },
        { id: carolId, status: 1 },
      ]),
    );
    expect(result.userStatus).toHaveLength(3);
    groupId = result.id;
  });

  it('POST /group/create rejects an empty member list with a 400 naming the field', async () => {
    const res = await alice.post<Envelope>('/group/create', { name: 'Nobody', memberIds: [] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 400, message: expect.stringContaining('memberIds') });
  });

  it('GET /group/{id} shows the group to anyone', async () => {
    const res = await dave.get<Envelope>(`/group/${groupId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      code: 200,
      result: {
        id: groupId,
        name: 'Hikers',
        creatorId: aliceId,
        memberCount: 3,
        maxMemberCount: 500,
        deletedAt: null,
        isMute: 0,
        certiStatus: 1,
        memberProtection: 0,
      },
    });
  });

  it('GET /group/{id} of an unknown group is 404', async () => {
    const res = await dave.get<Envelope>('/group/NoSuchGroup0');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 404 });
  });

  it('GET /group/{id}/members lists members with nicknames from their tokens', async () => {
    const res = await bob.get<Envelope<Member[]>>(`/group/${groupId}/members`);
    expect(res.status).toBe(200);
    const members = res.body.result as Member[];
    const byId = new Map(members.map((m) => [m.user.id, m]));
    expect(members).toHaveLength(3);
    expect(byId.get(aliceId)).toMatchObject({ role: 0, user: { nickname: 'Alice', portraitUri: 'https://img.example/alice.png' } });
    expect(byId.get(bobId)).toMatchObject({ role: 1, user: { nickname: 'Bob' } });
    expect(byId.get(carolId)).toMatchObject({ role: 1, user: { nickname: '' } });
  });

  it('GET /group/{id}/members is for members only (403), and 404 for an unknown group', async () => {
    const outsider = await dave.get<Envelope>(`/group/${groupId}/members`);
    expect(outsider.status).toBe(403);
    expect(outsider.body).toMatchObject({ code: 403 });
    expect((await bob.get(`/group/NoSuchGroup0/members`)).status).toBe(404);
  });

  it('POST /group/rename is for the owner: a member gets 400, an unknown group 404', async () => {
    const byMember = await bob.post<Envelope>('/group/rename', { groupId, name: 'Bob rules' });
    expect(byMember.status).toBe(400);
    expect(byMember.body).toMatchObject({ code: 400, message: expect.stringContaining('not creator') });
    expect((await alice.post('/group/rename', { groupId: 'NoSuchGroup0', name: 'Whatever' })).status).toBe(404);
  });

  it('POST /group/rename by the owner renames the group (escaping < and >)', async () => {
    const res = await alice.post<Envelope>('/group/rename', { groupId, name: 'Hikers <2026>' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ code: 200 });
    const after = await dave.get<Envelope<{ name: string }>>(`/group/${groupId}`);
    expect(after.body.result?.name).toBe('Hikers &lt;2026&gt;');
  });

  it("GET /user/groups lists the caller's groups with their role", async () => {
    const res = await bob.get<Envelope<MyGroup[]>>('/user/groups');
    expect(res.status).toBe(200);
    const mine = (res.body.result as MyGroup[]).find((g) => g.group.id === groupId);
    expect(mine).toMatchObject({
      role: 1,
      group: {
        id: groupId,
        name: 'Hikers &lt;2026&gt;',
        creatorId: aliceId,
        memberCount: 3,
        maxMemberCount: 500,
        isMute: 0,
        certiStatus: 1,
        memberProtection: 0,
      },
    });
    expect(Object.keys(mine?.group ?? {}).sort()).toEqual(
      ['certiStatus', 'creatorId', 'id', 'isMute', 'maxMemberCount', 'memberCount', 'memberProtection', 'name', 'portraitUri'].sort(),
    );
    expect((await dave.get<Envelope<MyGroup[]>>('/user/groups')).body).toEqual({ code: 200, result: [] });
  });
});
