import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import * as z from 'zod';
import { createEndpointFactory } from '#lib/http/endpoint.ts';
import { buildEvent, claimsAsStrings, createGateway, createRouter, lambdaContext, matchRoute, type LambdaHandler } from '#infra/local/gateway.ts';
import { routes, type Route } from '#lib/routes.ts';
import { TEST_JWT_SECRET, testToken } from '#tests/helpers/tokens.ts';

const route = (method: Route['method'], path: string): Route => ({ method, path, handler: path, table: 'read' });

describe('route matching', () => {
  it('prefers literal segments over {param} segments, whatever the table order', () => {
    const router = createRouter([route('GET', '/group/{id}'), route('GET', '/group/get_bulletin'), route('GET', '/group/{id}/members')]);
    expect(router('GET', '/group/get_bulletin')?.route.path).toBe('/group/get_bulletin');
    expect(router('GET', '/group/abc')).toMatchObject({ route: { path: '/group/{id}' }, pathParameters: { id: 'abc' } });
    expect(router('GET', '/group/abc/members')).toMatchObject({ route: { path: '/group/{id}/members' }, pathParameters: { id: 'abc' } });
  });

  it('in the real table, /group/get_bulletin and /group/notice_info are not captured by /group/{id}', () => {
    expect(matchRoute('GET', '/group/get_bulletin')?.route.path).toBe('/group/get_bulletin');
    expect(matchRoute('GET', '/group/notice_info')?.route.path).toBe('/group/notice_info');
    expect(matchRoute('GET', '/group/g1')?.route.path).toBe('/group/{id}');
  });

  it('finds nothing for unknown paths, wrong methods, extra or empty segments', () => {
    expect(matchRoute('GET', '/nope')).toBeUndefined();
    expect(matchRoute('PUT', '/group/create')).toBeUndefined();
    expect(matchRoute('DELETE', '/user/groups')).toBeUndefined();
    expect(matchRoute('GET', '/group/create/extra/more')).toBeUndefined();
    expect(matchRoute('GET', '/group//members')).toBeUndefined();
    expect(matchRoute('POST', '/group/create/')).toBeUndefined();
  });

  it('matches per method, like API Gateway: GET /group/create is GET /group/{id} with id "create"', () => {
    expect(matchRoute('GET', '/group/create')).toMatchObject({ route: { path: '/group/{id}' }, pathParameters: { id: 'create' } });
  });

  it('matches every route in the table by its own method and path', () => {
    for (const r of routes) {
      const path = r.path.replace(/\{[^}]+\}/g, 'G1');
      expect(matchRoute(r.method, path)?.route, `${r.method} ${r.path}`).toBe(r);
    }
  });

  it('URL-decodes path parameters', () => {
    expect(matchRoute('GET', '/group/a%20b%2Fc/members')?.pathParameters).toEqual({ id: 'a b/c' });
    expect(matchRoute('GET', '/group/%E4%B8%AD')?.pathParameters).toEqual({ id: '中' });
  });
});

describe('the event', () => {
  const event = buildEvent({
    route: { method: 'GET', path: '/group/{id}/members' },
    rawPath: '/group/a%20b/members',
    rawQueryString: 'x=1&x=2&y=%C3%A9',
    headers: { Host: 'localhost:3000', 'User-Agent': 'curl/8', Cookie: 'a=1; b=2', 'X-Multi': ['1', '2'] },
    pathParameters: { id: 'a b' },
    claims: { sub: 'alice', name: 'Alice', group_verify: 0, exp: 1700000000, email_verified: true, groups: ['a', 'b'] },
    requestId: 'req-1',
    now: new Date(Date.UTC(2026, 2, 10, 8, 21, 5)),
  });

  it('is API Gateway payload format 2.0 with a JWT authorizer', () => {
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /group/{id}/members',
      rawPath: '/group/a%20b/members',
      rawQueryString: 'x=1&x=2&y=%C3%A9',
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: {
        accountId: 'local',
        apiId: 'local',
        domainName: 'localhost:3000',
        http: { method: 'GET', path: '/group/a%20b/members', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8' },
        requestId: 'req-1',
        routeKey: 'GET /group/{id}/members',
        stage: '$default',
        time: '10/Mar/2026:08:21:05 +0000',
        timeEpoch: Date.UTC(2026, 2, 10, 8, 21, 5),
      },
    });
    expect(event.body).toBeUndefined();
  });

  it('lower-cases headers, joins repeated ones with commas and moves cookies out', () => {
    expect(event.headers).toEqual({ host: 'localhost:3000', 'user-agent': 'curl/8', 'x-multi': '1,2' });
  });

  it('decodes query parameters and path parameters', () => {
    expect(event.queryStringParameters).toEqual({ x: '1,2', y: 'é' });
    expect(event.pathParameters).toEqual({ id: 'a b' });
  });

  it('passes every claim as a string, scopes null', () => {
    expect(event.requestContext.authorizer.jwt).toEqual({
      claims: { sub: 'alice', name: 'Alice', group_verify: '0', exp: '1700000000', email_verified: 'true', groups: '[a b]' },
      scopes: null,
    });
    expect(claimsAsStrings({ a: undefined, b: null, c: { d: 1 } })).toEqual({ c: '{"d":1}' });
  });

  it('omits query and path parameters when there are none', () => {
    const bare = buildEvent({ route: { method: 'GET', path: '/user/groups' }, rawPath: '/user/groups', claims: { sub: 'a' } });
    expect(bare.queryStringParameters).toBeUndefined();
    expect(bare.pathParameters).toBeUndefined();
    expect(bare.cookies).toBeUndefined();
  });
});

describe('the Lambda context', () => {
  it('counts down from the function timeout', () => {
    const context = lambdaContext('group-get', 10_000);
    expect(context.functionName).toBe('sealtalk-group-group-get');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lambdaContext('group-get', 10_000, 'req-1').awsRequestId).toBe('req-1');
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(9_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(10_000);
  });
});

describe('the gateway over HTTP, with stub handlers', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  const serve = async (handler: LambdaHandler, functionTimeoutMs?: number): Promise<string> => {
    server = createGateway({ secret: TEST_JWT_SECRET, log: false, load: async () => handler, functionTimeoutMs });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const auth = async (): Promise<Record<string, string>> => ({ authorization: `Bearer ${await testToken('alice', { name: 'Alice' })}` });

  it('hands the handler the verified claims and the body, and writes its structured result back', async () => {
    let seen: Parameters<LambdaHandler>[0] | undefined;
    const base = await serve(async (event) => {
      seen = event;
      return { statusCode: 201, headers: { 'x-custom': 'yes', 'content-type': 'application/json' }, body: '{"ok":true}', cookies: ['c=1'] };
    });
    const res = await fetch(`${base}/group/rename?z=1`, { method: 'POST', headers: await auth(), body: '{"groupId":"g"}' });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(res.headers.get('set-cookie')).toBe('c=1');
    expect(await res.json()).toEqual({ ok: true });
    expect(seen?.body).toBe('{"groupId":"g"}');
    expect(seen?.queryStringParameters).toEqual({ z: '1' });
    expect(seen?.requestContext.authorizer.jwt.claims).toMatchObject({ sub: 'alice', name: 'Alice', iss: 'sealtalk-local', aud: 'sealtalk-group-service' });
  });

  it('turns a plain object result into a 200 JSON response, as HTTP API does', async () => {
    const base = await serve(async () => ({ hello: 'world' }));
    const res = await fetch(`${base}/user/groups`, { headers: await auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('answers 500 {"message":"Internal Server Error"} when the handler throws', async () => {
    const base = await serve(async () => {
      throw new Error('boom');
    });
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const res = await fetch(`${base}/user/groups`, { headers: await auth() });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ message: 'Internal Server Error' });
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(1);
  });

  it('answers 500 when the handler outlives the function timeout', async () => {
    const base = await serve(() => new Promise(() => undefined), 50);
    const original = console.error;
    console.error = () => undefined;
    try {
      expect((await fetch(`${base}/user/groups`, { headers: await auth() })).status).toBe(500);
    } finally {
      console.error = original;
    }
  });

  it('checks the route before the token, and the token before the handler', async () => {
    let calls = 0;
    const base = await serve(async () => {
      calls++;
      return { statusCode: 200, body: '' };
    });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/user/groups`, { method: 'POST', headers: await auth() })).status).toBe(404);
    const res = await fetch(`${base}/user/groups`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('{"message":"Unauthorized"}');
    expect(calls).toBe(0);
  });
});

describe('one request id per request', () => {
  let server: Server | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  const endpoint = createEndpointFactory(async () => undefined);
  const ok = endpoint({ input: z.object({}), run: async () => ({ ok: true }) });
  const crash = endpoint({
    input: z.object({}),
    run: async () => {
      throw new Error('boom');
    },
  });

  /** One request through the gateway (default request log on stdout) to a real HTTP-stack handler. */
  const request = async (handler: LambdaHandler): Promise<{ header: string | null; body: Record<string, unknown>; entries: Record<string, unknown>[] }> => {
    vi.stubEnv('LOG_LEVEL', 'info');
    server = createGateway({ secret: TEST_JWT_SECRET, load: async () => handler });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    const token = await testToken('alice');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/user/groups`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as Record<string, unknown>;
    vi.restoreAllMocks();
    const entries = lines.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    return { header: res.headers.get('apigw-requestid'), body, entries };
  };

  it("the gateway's log line and the handler's carry the id of the apigw-requestid header", async () => {
    const { header, entries } = await request(ok);
    expect(header).toEqual(expect.any(String));
    const gatewayEntry = entries.find((entry) => entry.message === 'http');
    const handlerEntry = entries.find((entry) => entry.message === 'request done');
    expect(gatewayEntry).toMatchObject({ requestId: header, status: 200 });
    expect(handlerEntry).toMatchObject({ requestId: header, awsRequestId: header });
  });

  it('a 500 names that same id', async () => {
    const { header, body, entries } = await request(crash);
    expect(body).toEqual({ code: 500, message: 'internal error', requestId: header });
    expect(entries.find((entry) => entry.message === 'request failed')).toMatchObject({ requestId: header, awsRequestId: header });
    expect(entries.find((entry) => entry.message === 'http')).toMatchObject({ requestId: header, status: 500 });
  });
});
