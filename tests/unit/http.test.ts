import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { lambdaContext } from '#infra/local/gateway.ts';
import { Forbidden, InvalidInput, NoPermission, NotAllowed, NotFound, NotInGroup, Rejected } from '#lib/domain/errors.ts';
import { createEndpointFactory } from '#lib/http/endpoint.ts';
import { groupIdField, userIdListField } from '#lib/http/fields.ts';
import { httpEvent, invoke } from '#tests/helpers/events.ts';

const seen: string[] = [];
const endpoint = createEndpointFactory(async (caller) => {
  seen.push(caller.userId);
});

const echo = endpoint({
  input: z.object({ groupId: groupIdField(), memberIds: z.optional(userIdListField()) }),
  run: async ({ input, caller }) => ({ input, caller: caller.userId }),
});

const failWith = (error: unknown) =>
  endpoint({
    input: z.object({}),
    run: async () => {
      throw error;
    },
  });

const alice = { sub: 'alice' };

describe('the shared HTTP stack', () => {
  it('wraps results in the {code, result} envelope with private caching', async () => {
    const reply = await invoke(echo, { body: { groupId: 'g1' }, claims: alice });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200, result: { input: { groupId: 'g1' }, caller: 'alice' } });
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.headers['cache-control']).toBe('private');
  });

  it('reads POST input from the body only, and GET input from the query string', async () => {
    const post = await invoke(echo, { body: {}, query: { groupId: 'from-query' }, claims: alice });
    expect(post.body).toEqual({ code: 400, message: 'groupId: required' });
    const get = await invoke(echo, { method: 'GET', query: { groupId: 'from-query' }, claims: alice });
    expect((get.body.result as { input: unknown }).input).toEqual({ groupId: 'from-query' });
  });

  it('omits result when the operation returns nothing', async () => {
    const nothing = endpoint({ input: z.object({}), run: async () => undefined });
    const reply = await invoke(nothing, { body: {}, claims: alice });
    expect(reply.body).toEqual({ code: 200 });
  });

  it('takes the caller from the JWT claims, never from the body', async () => {
    const reply = await invoke(echo, { body: { groupId: 'g1', sub: 'mallory', userId: 'mallory' }, claims: alice });
    expect((reply.body.result as { caller: string }).caller).toBe('alice');
    expect(seen).toContain('alice');
  });

  it('reads profile claims, including the custom:-prefixed spellings Cognito issues', async () => {
    const whoAmI = endpoint({ input: z.object({}), run: async ({ caller }) => caller });
    const plain = await invoke(whoAmI, {
      body: {},
      claims: { sub: 'u1', name: 'Una', picture: 'https://p', phone_number: '+1', gender: 'female', st_account: 'una', group_verify: '0' },
    });
    expect(plain.body.result).toEqual({
      userId: 'u1',
      profile: { nickname: 'Una', portraitUri: 'https://p', phone: '+1', gender: 'female', stAccount: 'una', groupVerify: 0 },
    });
    const cognito = await invoke(whoAmI, { body: {}, claims: { sub: 'u2', 'custom:st_account': 'dos', 'custom:group_verify': '1' } });
    expect(cognito.body.result).toEqual({ userId: 'u2', profile: { stAccount: 'dos', groupVerify: 1 } });
  });

  it('ignores malformed profile claims instead of refusing the caller', async () => {
    const whoAmI = endpoint({ input: z.object({}), run: async ({ caller }) => caller });
    const reply = await invoke(whoAmI, { body: {}, claims: { sub: 'u3', name: 'Tri', group_verify: '5', picture: 'x'.repeat(2000) } });
    expect(reply.status).toBe(200);
    expect(reply.body.result).toEqual({ userId: 'u3', profile: { nickname: 'Tri' } });
  });

  it('answers 401 {"message":"Unauthorized"} without usable claims', async () => {
    const cases: (Record<string, string> | null)[] = [null, {}, { sub: '' }, { sub: 'x'.repeat(65) }];
    for (const claims of cases) {
      const reply = await invoke(echo, { body: { groupId: 'g1' }, claims });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ message: 'Unauthorized' });
    }
  });

  it('answers malformed JSON and non-object bodies with 400', async () => {
    for (const body of ['{"groupId":', '[1,2]', '"text"', 'null']) {
      const reply = await invoke(echo, { body, claims: alice });
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe(400);
      expect(reply.body.message).toMatch(/^body: /);
    }
  });

  it('names the field in validation errors', async () => {
    const cases: [unknown, string][] = [
      [{}, 'groupId: required'],
      [{ groupId: null }, 'groupId: required'],
      [{ groupId: '' }, 'groupId: expected a non-empty group id'],
      [{ groupId: 42 }, 'groupId: expected a non-empty group id'],
      [{ groupId: 'g', memberIds: [] }, 'memberIds: expected at least one user id'],
      [{ groupId: 'g', memberIds: 'bob' }, 'memberIds: expected an array of user ids'],
      [{ groupId: 'g', memberIds: ['bob', null] }, 'memberIds[1]: required'],
      [{ groupId: 'g', memberIds: ['bob', ''] }, 'memberIds[1]: expected a non-empty user id'],
      [{ groupId: 'g', memberIds: ['x'.repeat(65)] }, 'memberIds[0]: expected a user id of at most 64 characters'],
      // More ids than any group can have members (a 10 MB body of ids is refused before any read).
      [{ groupId: 'g', memberIds: Array.from({ length: 3001 }, (_, i) => `u${i}`) }, 'memberIds: expected at most 3000 user ids'],
    ];
    for (const [body, message] of cases) {
      const reply = await invoke(echo, { body, claims: alice });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body).toEqual({ code: 400, message });
    }
  });

  it('maps each domain error class to the status the reference uses', async () => {
    const cases: [Error, number][] = [
      [new InvalidInput('bad'), 400],
      [new NoPermission('no'), 401],
      [new NotInGroup('out'), 402],
      [new Forbidden('no'), 403],
      [new NotFound('gone'), 404],
      [new NotAllowed('dup'), 405],
    ];
    for (const [error, status] of cases) {
      const reply = await invoke(failWith(error), { body: {}, claims: alice });
      expect(reply.status).toBe(status);
      expect(reply.body).toEqual({ code: status, message: error.message });
    }
  });

  it('answers business rejections inside HTTP 200 with their code', async () => {
    const reply = await invoke(failWith(new Rejected(1000, 'too many groups')), { body: {}, claims: alice });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 1000, message: 'too many groups' });
  });

  it('turns unexpected errors into a 500 with a request id and nothing internal', async () => {
    const reply = await invoke(failWith(new Error('secret table name leaked')), { body: {}, claims: alice });
    expect(reply.status).toBe(500);
    expect(reply.body.code).toBe(500);
    expect(reply.body.message).toBe('internal error');
    expect(reply.body.requestId).toEqual(expect.any(String));
    expect(JSON.stringify(reply.body)).not.toContain('secret');
  });
});

describe('request ids in logs and in 500s', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  /** Runs `handler` once with API Gateway request id `apigw-1` and Lambda request id `lambda-1`; returns its log entries. */
  const logsOf = async (handler: ReturnType<typeof endpoint>): Promise<{ body: Record<string, unknown>; entries: Record<string, unknown>[] }> => {
    vi.stubEnv('LOG_LEVEL', 'info');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const event = httpEvent({ body: {}, claims: alice });
    event.requestContext.requestId = 'apigw-1';
    const out = await handler(event, lambdaContext('test', 10_000, 'lambda-1'));
    vi.restoreAllMocks();
    const entries = lines.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    return { body: JSON.parse(out.body ?? '{}') as Record<string, unknown>, entries };
  };

  it("logs API Gateway's request id as requestId and the Lambda's as awsRequestId", async () => {
    const { entries } = await logsOf(endpoint({ input: z.object({}), run: async () => undefined }));
    expect(entries).toEqual([expect.objectContaining({ message: 'request done', requestId: 'apigw-1', awsRequestId: 'lambda-1', userId: 'alice' })]);
  });

  it("answers a 500 with API Gateway's request id, the one its log lines carry", async () => {
    const { body, entries } = await logsOf(failWith(new Error('boom')));
    expect(body).toEqual({ code: 500, message: 'internal error', requestId: 'apigw-1' });
    expect(entries).toEqual([expect.objectContaining({ level: 'error', message: 'request failed', requestId: 'apigw-1', awsRequestId: 'lambda-1' })]);
  });
});
