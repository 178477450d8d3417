import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeKey, routes, type Route } from '#lib/routes.ts';
import { mintToken } from '#infra/local/tokens.ts';
import { startTestGateway, type TestGateway } from '#tests/helpers/gateway.ts';
import type { ApiClient } from '#tests/helpers/api.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { TEST_JWT_SECRET, testToken } from '#tests/helpers/tokens.ts';

/** The gateway in front of the real handlers: what every client sees before a handler runs. */

let gw: TestGateway;
let alice: ApiClient;

beforeAll(async () => {
  gw = await startTestGateway();
  alice = await gw.as(uniqueUserId('alice'), { name: 'Alice' });
});
afterAll(async () => gw?.close());

/** A concrete path for a route: `{id}` becomes a group id that does not exist. */
const concretePath = (route: Route): string => route.path.replace(/\{[^}]+\}/g, 'NoSuchGroup0');

const unauthorized = { message: 'Unauthorized' };

describe('authorization', () => {
  it('answers 401 {"message":"Unauthorized"} without an Authorization header', async () => {
    const res = await gw.anonymous.get('/user/groups');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(unauthorized);
  });

  it.each([
    ['a malformed token', async () => 'not-a-jwt'],
    ['an expired token', async () => testToken('alice', {}, { expiresIn: -60 })],
    ['a token for another audience', async () => testToken('alice', {}, { audience: 'someone-else' })],
    ['a token from another issuer', async () => testToken('alice', {}, { issuer: 'https://evil.example' })],
    ['a token signed with another secret', async () => mintToken('alice', {}, `${TEST_JWT_SECRET}-other`)],
  ])('answers 401 for %s', async (_what, token) => {
    const res = await gw.anonymous.post('/group/create', { name: 'G', memberIds: ['bob'] }, { token: await token() });
    expect(res.status).toBe(401);
    expect(res.text).toBe(JSON.stringify(unauthorized));
  });

  it('accepts a valid token with or without the Bearer prefix, as API Gateway does', async () => {
    const token = await gw.token(uniqueUserId('bob'));
    expect((await gw.anonymous.get('/user/groups', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await gw.anonymous.get('/user/groups', { headers: { authorization: token } })).status).toBe(200);
  });
});

describe('routing', () => {
  it('answers 404 {"message":"Not Found"} for an unknown path, even without a token', async () => {
    for (const path of ['/nope', '/group', '/group/create/extra', '/user/groups/x']) {
      const res = await gw.anonymous.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).toEqual({ message: 'Not Found' });
    }
  });

  it('answers 404 for a known path with a method it does not serve', async () => {
    const res = await alice.request('PUT', '/group/create', { body: {} });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ message: 'Not Found' });
    expect((await alice.delete('/user/groups')).body).toEqual({ message: 'Not Found' });
  });

  it('routes /group/get_bulletin and /group/notice_info to their own functions, not to /group/{id}', async () => {
    for (const path of ['/group/get_bulletin', '/group/notice_info']) {
      const res = await alice.get(path);
      // Served by its own function; /group/{id} would answer 404 "Unknown group.".
      expect(res.body, path).not.toEqual({ code: 404, message: 'Unknown group.' });
      expect(res.status, path).toBeLessThan(500);
    }
  });

  it('answers 413 for a body over 10 MB', async () => {
    const res = await alice.post('/group/rename', 'x'.repeat(10 * 1024 * 1024 + 1));
    expect(res.status).toBe(413);
  });
});

describe('every route', () => {
  it.each(routes.map((r) => [routeKey(r), r] as const))('%s is served by its own handler (never a 5xx for an empty request)', async (_key, route) => {
    const res = await alice.request(route.method, concretePath(route), route.method === 'GET' ? {} : { body: {} });
    // The handler's own envelope (API Gateway's unknown-route answer is `{"message":"Not Found"}`).
    expect(res.body).toHaveProperty('code');
    expect(res.status).toBeLessThan(500);
  });
});

describe('responses', () => {
  it('carry content-type application/json and cache-control private', async () => {
    const res = await alice.get('/user/groups');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('private');
    expect(res.headers.get('apigw-requestid')).toBeTruthy();
  });
});
