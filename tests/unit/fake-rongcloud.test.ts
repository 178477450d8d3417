import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';

let fake: FakeRongCloud;
beforeAll(async () => {
  fake = await startFakeRongCloud({ appKey: 'key', appSecret: 'secret' });
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
});

interface RawOptions {
  method?: string;
  contentType?: string;
  appKey?: string;
  secret?: string;
  nonce?: string;
  timestamp?: string;
  signature?: string;
  /** Sends the right signature in upper case. */
  upperCase?: boolean;
  signal?: AbortSignal;
}

/** A hand-signed request, independent of lib/im. */
const raw = async (path: string, body: string, o: RawOptions = {}) => {
  const nonce = o.nonce ?? 'abc123';
  const timestamp = o.timestamp ?? String(Math.floor(Date.now() / 1000));
  const hex = o.signature ?? createHash('sha1').update(`${o.secret ?? 'secret'}${nonce}${timestamp}`).digest('hex');
  const signature = o.upperCase ? hex.toUpperCase() : hex;
  const response = await fetch(`${fake.url}${path}`, {
    method: o.method ?? 'POST',
    headers: {
      'App-Key': o.appKey ?? 'key',
      Nonce: nonce,
      Timestamp: timestamp,
      Signature: signature,
      'Content-Type': o.contentType ?? 'application/x-www-form-urlencoded',
    },
    ...(o.method === 'GET' ? {} : { body }),
    signal: o.signal,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const create = 'userId=a&userId=b&groupId=g&groupName=G';

describe('the fake RongCloud server', () => {
  it('accepts a correctly signed form POST and records it with repeated keys as arrays', async () => {
    await expect(raw('/group/create.json', create)).resolves.toEqual({ status: 200, body: { code: 200 } });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({ path: '/group/create.json', params: { userId: ['a', 'b'], groupId: 'g', groupName: 'G' } });
    expect(fake.calls[0]?.headers['app-key']).toBe('key');
    expect(fake.groups.get('g')).toEqual({ name: 'G', members: new Set(['a', 'b']), banned: false, whitelist: new Set() });
  });

  it.each<[string, RawOptions]>([
    ['a wrong App-Key', { appKey: 'other' }],
    ['a wrong secret', { secret: 'guess' }],
    ['an upper-case signature', { upperCase: true }],
    ['a Nonce over 18 characters', { nonce: 'n'.repeat(19) }],
    ['an empty Nonce', { nonce: '' }],
    ['a Timestamp in milliseconds', { timestamp: String(Date.now()) }],
    ['a Timestamp an hour old', { timestamp: String(Math.floor(Date.now() / 1000) - 3600) }],
    ['a Timestamp that is not a number', { timestamp: 'soon' }],
  ])('rejects %s with 401/1004 and records only the attempt', async (_name, options) => {
    const answer = await raw('/group/create.json', create, options);
    expect(answer).toMatchObject({ status: 401, body: { code: 1004, errorMessage: expect.stringMatching(/^signature error/) } });
    expect(fake.calls).toHaveLength(0);
    expect(fake.attempts).toHaveLength(1);
    expect(fake.groups.size).toBe(0);
  });

  it('accepts millisecond timestamps when so configured', async () => {
    const ms = await startFakeRongCloud({ timestampUnit: 'ms', maxSkewSeconds: 10 });
    try {
      const timestamp = String(Date.now());
      const signature = createHash('sha1').update(`${ms.appSecret}n1${timestamp}`).digest('hex');
      const headers = { 'App-Key': ms.appKey, Nonce: 'n1', Timestamp: timestamp, Signature: signature, 'Content-Type': 'application/x-www-form-urlencoded' };
      const response = await fetch(`${ms.url}/group/refresh.json`, { method: 'POST', headers, body: 'groupId=g&groupName=G' });
      expect(response.status).toBe(200);
      expect(ms.calls).toHaveLength(1);
    } finally {
      await ms.close();
    }
  });

  it('requires POST and a form body', async () => {
    expect(await raw('/group/create.json', '', { method: 'GET' })).toMatchObject({ status: 405 });
    expect(await raw('/group/create.json', '{"groupId":"g"}', { contentType: 'application/json' })).toMatchObject({ status: 400, body: { code: 1003 } });
    expect(fake.calls).toHaveLength(0);
  });

  it('answers 404 for unknown paths and 1002 for a missing field', async () => {
    expect(await raw('/group/nope.json', 'groupId=g')).toMatchObject({ status: 404 });
    expect(await raw('/group/create.json', 'groupId=g&groupName=G')).toMatchObject({ status: 400, body: { code: 1002 } });
    expect(fake.calls).toHaveLength(0);
  });

  it('enforces the per-call limits with code 1502', async () => {
    const many = (key: string, n: number) => Array.from({ length: n }, (_, i) => `${key}=u${i}`).join('&');
    expect(await raw('/group/join.json', `${many('userId', 1001)}&groupId=g`)).toEqual({ status: 200, body: expect.objectContaining({ code: 1502 }) });
    expect(await raw('/group/user/ban/whitelist/add.json', `${many('userId', 21)}&groupId=g`)).toMatchObject({ body: { code: 1502 } });
    expect(await raw('/message/private/publish.json', `${many('toUserId', 1001)}&fromUserId=a&objectName=o&content=c`)).toMatchObject({ body: { code: 1502 } });
    expect(await raw('/message/system/publish.json', `${many('toUserId', 101)}&fromUserId=a&objectName=o&content=c`)).toMatchObject({ body: { code: 1502 } });
    expect(await raw('/group/join.json', `${many('userId', 1000)}&groupId=g`)).toMatchObject({ body: { code: 200 } });
    expect(fake.calls).toHaveLength(1);
  });

  it('models join, quit, refresh, ban, whitelist and dismiss', async () => {
    await raw('/group/join.json', 'userId=a&groupId=g&groupName=Joined');
    expect(fake.groups.get('g')).toMatchObject({ name: 'Joined', members: new Set(['a']) });
    await raw('/group/join.json', 'userId=b&groupId=g');
    await raw('/group/quit.json', 'userId=a&groupId=g');
    expect(fake.groups.get('g')?.members).toEqual(new Set(['b']));
    expect(await raw('/group/refresh.json', 'groupId=missing&groupName=X')).toMatchObject({ status: 200 });
    expect(fake.groups.has('missing')).toBe(false);
    await raw('/group/refresh.json', 'groupId=g&groupName=Renamed');
    await raw('/group/ban/add.json', 'groupId=g');
    await raw('/group/user/ban/whitelist/add.json', 'userId=b&userId=c&groupId=g');
    await raw('/group/user/ban/whitelist/rollback.json', 'userId=c&groupId=g');
    expect(fake.groups.get('g')).toEqual({ name: 'Renamed', members: new Set(['b']), banned: true, whitelist: new Set(['b']) });
    await raw('/group/ban/rollback.json', 'groupId=g');
    expect(fake.groups.get('g')?.banned).toBe(false);
    await raw('/group/dismiss.json', 'userId=b&groupId=g');
    expect(fake.groups.has('g')).toBe(false);
  });

  it('answers queued failures in order, path-specific ones before "*", then normally', async () => {
    fake.fail('*', { status: 503 });
    fake.fail('/group/refresh.json', { code: 1008 }, { status: 200, code: 1050, errorMessage: 'slow' });
    const body = 'groupId=g&groupName=G';
    expect(await raw('/group/refresh.json', body)).toEqual({ status: 429, body: { code: 1008, errorMessage: 'canned failure 1008' } });
    expect(await raw('/group/refresh.json', body)).toEqual({ status: 200, body: { code: 1050, errorMessage: 'slow' } });
    expect(await raw('/group/refresh.json', body)).toMatchObject({ status: 503, body: { code: 1000 } });
    expect(await raw('/group/refresh.json', body)).toEqual({ status: 200, body: { code: 200 } });
    expect(fake.attempts).toHaveLength(4);
    expect(fake.calls).toHaveLength(1);
  });

  it("'drop' destroys the connection", async () => {
    fake.fail('/group/refresh.json', 'drop');
    await expect(raw('/group/refresh.json', 'groupId=g&groupName=G')).rejects.toThrow();
    expect(fake.attempts).toHaveLength(1);
    expect(fake.calls).toHaveLength(0);
  });

  it('a delayed answer is handled normally if the client waits, and has no effect if it hung up', async () => {
    fake.fail('/group/refresh.json', { delayMs: 150 }, { delayMs: 150 });
    await raw('/group/create.json', create);
    const started = Date.now();
    expect(await raw('/group/refresh.json', 'groupId=g&groupName=Slow')).toMatchObject({ status: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await expect(raw('/group/refresh.json', 'groupId=g&groupName=Abandoned', { signal: AbortSignal.timeout(20) })).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(fake.calls.map((c) => c.params.groupName)).toEqual(['G', 'Slow']);
    expect(fake.groups.get('g')?.name).toBe('Slow');
  });

  it('waitForCalls resolves once enough accepted calls arrived, optionally for one path, and rejects on timeout', async () => {
    const waiting = fake.waitForCalls(2, { path: '/group/refresh.json' });
    await raw('/group/create.json', create);
    await raw('/group/refresh.json', 'groupId=g&groupName=1');
    await raw('/group/refresh.json', 'groupId=g&groupName=2');
    const calls = await waiting;
    expect(calls.map((c) => c.params.groupName)).toEqual(['1', '2']);
    await expect(fake.waitForCalls(4, { timeoutMs: 50 })).rejects.toThrow(/3 of 4 calls/);
  });

  it('reset forgets calls, attempts, queued failures and groups', async () => {
    await raw('/group/create.json', create);
    fake.fail('*', { status: 500 }, { status: 500 });
    await raw('/group/create.json', create);
    fake.reset();
    expect([fake.calls.length, fake.attempts.length, fake.groups.size]).toEqual([0, 0, 0]);
    expect(await raw('/group/create.json', create)).toMatchObject({ status: 200 });
  });
});
