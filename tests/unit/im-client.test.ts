import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ImCallFailed,
  createLogTransport,
  createRongCloudClient,
  encodeForm,
  rongCloudConfigFromEnv,
  type ClientDeps,
  type RongCloudConfig,
} from '#lib/im/client.ts';
import { createLogger, type Fields, type Logger } from '#lib/log.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';

/** Real time plus whatever the client slept: backoff costs no wall-clock time in these tests. */
const virtualClock = () => {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sleep: async (ms: number) => {
      offset += ms;
    },
    advance: (ms: number) => {
      offset += ms;
    },
  };
};

const recordingLogger = () => {
  const entries: Array<{ level: string; message: string; fields: Fields }> = [];
  const make = (base: Fields): Logger => ({
    debug: (message, fields = {}) => entries.push({ level: 'debug', message, fields: { ...base, ...fields } }),
    info: (message, fields = {}) => entries.push({ level: 'info', message, fields: { ...base, ...fields } }),
    warn: (message, fields = {}) => entries.push({ level: 'warn', message, fields: { ...base, ...fields } }),
    error: (message, fields = {}) => entries.push({ level: 'error', message, fields: { ...base, ...fields } }),
    child: (fields) => make({ ...base, ...fields }),
  });
  return { log: make({}), entries };
};

/** A loopback port nothing listens on. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

/** `fetch` that notes each URL it is asked for, then really fetches it. */
const observedFetch = () => {
  const urls: string[] = [];
  const observed: typeof fetch = (input, init) => {
    urls.push(String(input));
    return fetch(input, init);
  };
  return { fetch: observed, urls };
};

const catchError = async (promise: Promise<unknown>): Promise<ImCallFailed> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ImCallFailed) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
};

let fake: FakeRongCloud;
let fakeMs: FakeRongCloud;

beforeAll(async () => {
  fake = await startFakeRongCloud();
  fakeMs = await startFakeRongCloud({ timestampUnit: 'ms', appKey: 'ms-key', appSecret: 'ms-secret' });
});
afterAll(async () => {
  await fake.close();
  await fakeMs.close();
});
afterEach(() => {
  fake.reset();
  fakeMs.reset();
});

const configFor = (server: FakeRongCloud, overrides: Partial<RongCloudConfig> = {}): RongCloudConfig => ({
  appKey: server.appKey,
  appSecret: server.appSecret,
  baseUrls: [server.url],
  ...overrides,
});

const clientFor = (server: FakeRongCloud, overrides: Partial<RongCloudConfig> = {}, deps: ClientDeps = {}) => {
  const clock = virtualClock();
  const { log, entries } = recordingLogger();
  const client = createRongCloudClient(configFor(server, overrides), { log, now: clock.now, sleep: clock.sleep, ...deps });
  return { client, clock, entries };
};

const refresh = { groupId: 'g1', groupName: 'Name' };

describe('request signing', () => {
  it('signs every request with App-Key, a Nonce of at most 18 characters, a Unix-seconds Timestamp and a SHA1 signature the fake verifies', async () => {
    const { client } = clientFor(fake);
    await expect(client.call('/group/refresh.json', refresh)).resolves.toEqual({ code: 200 });
    const [call] = fake.calls;
    expect(call?.headers['app-key']).toBe(fake.appKey);
    expect(call?.headers.nonce?.length).toBeGreaterThan(0);
    expect(call?.headers.nonce?.length).toBeLessThanOrEqual(18);
    expect(call?.headers.signature).toMatch(/^[0-9a-f]{40}$/);
    expect(Math.abs(Number(call?.headers.timestamp) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('computes a fresh Nonce and Timestamp for each request, retries included', async () => {
    const { client, clock } = clientFor(fake);
    fake.fail('/group/refresh.json', { status: 500 });
    await client.call('/group/refresh.json', refresh);
    clock.advance(5000);
    await client.call('/group/refresh.json', refresh);
    const nonces = fake.attempts.map((a) => a.headers.nonce);
    expect(fake.attempts).toHaveLength(3);
    expect(new Set(nonces).size).toBe(3);
    const [first, second] = fake.calls.map((c) => Number(c.headers.timestamp));
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(5);
  });

  it('sends a millisecond Timestamp when configured, which a millisecond server accepts', async () => {
    const { client } = clientFor(fakeMs, { timestampUnit: 'ms' });
    await client.call('/group/refresh.json', refresh);
    expect(Math.abs(Number(fakeMs.calls[0]?.headers.timestamp) - Date.now())).toBeLessThan(5000);
  });

  it('a Timestamp in the wrong unit is rejected with 1004 and not retried', async () => {
    const seconds = clientFor(fakeMs);
    const error = await catchError(seconds.client.call('/group/refresh.json', refresh));
    expect(error).toMatchObject({ path: '/group/refresh.json', code: 1004, httpStatus: 401, retryable: false });
    expect(fakeMs.attempts).toHaveLength(1);

    const millis = clientFor(fake, { timestampUnit: 'ms' });
    await expect(millis.client.call('/group/refresh.json', refresh)).rejects.toMatchObject({ code: 1004, retryable: false });
    expect(fake.attempts).toHaveLength(1);
    expect(fake.calls).toHaveLength(0);
  });

  it('a wrong secret is rejected with 1004, and the code and errorMessage are logged', async () => {
    const { client, entries } = clientFor(fake, { appSecret: 'not-the-secret' });
    await expect(client.call('/group/refresh.json', refresh)).rejects.toMatchObject({ code: 1004, retryable: false });
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({ path: '/group/refresh.json', code: 1004, errorMessage: expect.stringMatching(/signature/) }),
      }),
    );
  });
});

describe('form encoding', () => {
  it('sends arrays as repeated keys, in order, as a url-encoded form, without keep-alive', async () => {
    const { client } = clientFor(fake);
    await client.call('/group/create.json', { userId: ['1', '2'], groupId: '123', groupName: 'TestGroup' });
    const [call] = fake.calls;
    expect(call?.form.toString()).toBe('userId=1&userId=2&groupId=123&groupName=TestGroup');
    expect(call?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(call?.headers.connection).toBe('close');
    expect(fake.groups.get('123')?.members).toEqual(new Set(['1', '2']));
  });

  it('leaves out undefined fields, writes numbers as decimals, and escapes reserved characters', async () => {
    expect(encodeForm({ a: undefined, b: 3, c: 'x', d: [] }).toString()).toBe('b=3&c=x');
    const { client } = clientFor(fake);
    const name = 'A&B = 100% 中文+';
    await client.call('/group/create.json', { userId: ['u&1'], groupId: 'g2', groupName: name, pushContent: undefined });
    expect(fake.calls[0]?.params).toEqual({ userId: 'u&1', groupId: 'g2', groupName: name });
    expect(fake.groups.get('g2')?.name).toBe(name);
  });
});

describe('retries', () => {
  it('retries 500, 429/1008 and a timeout, then succeeds with exactly one accepted call', async () => {
    const { client } = clientFor(fake, { timeoutMs: 200 });
    fake.fail('/group/refresh.json', { status: 500 }, { status: 429, code: 1008 }, { delayMs: 1000 });
    await expect(client.call('/group/refresh.json', refresh)).resolves.toEqual({ code: 200 });
    expect(fake.attempts).toHaveLength(4);
    expect(fake.calls).toHaveLength(1);
  });

  it('retries the internal error 1000 and the internal timeout 1050', async () => {
    const { client } = clientFor(fake);
    fake.fail('/group/refresh.json', { status: 200, code: 1000 }, { status: 200, code: 1050 }, { code: 1000 });
    await client.call('/group/refresh.json', refresh);
    expect(fake.attempts).toHaveLength(4);
    expect(fake.calls).toHaveLength(1);
  });

  it('retries dropped connections', async () => {
    const { client } = clientFor(fake);
    fake.fail('*', 'drop', 'drop');
    await client.call('/group/refresh.json', refresh);
    expect(fake.attempts).toHaveLength(3);
    expect(fake.calls).toHaveLength(1);
  });

  it.each([1001, 1002, 1003, 1004, 1005, 1009, 1015, 1501, 1502, 1508])(
    'never retries code %i: ImCallFailed retryable:false after one attempt',
    async (code) => {
      const { client } = clientFor(fake);
      fake.fail('/group/refresh.json', { code, errorMessage: `failure ${code}` });
      const error = await catchError(client.call('/group/refresh.json', refresh));
      expect(error).toMatchObject({ name: 'ImCallFailed', path: '/group/refresh.json', code, retryable: false });
      expect(error.message).toContain(`failure ${code}`);
      expect(fake.attempts).toHaveLength(1);
    },
  );

  it('does not retry a parameter error answered with HTTP 200', async () => {
    const { client } = clientFor(fake);
    fake.fail('/group/refresh.json', { status: 200, code: 1002 });
    await expect(client.call('/group/refresh.json', refresh)).rejects.toMatchObject({ code: 1002, httpStatus: 200, retryable: false });
    expect(fake.attempts).toHaveLength(1);
  });

  it('gives up with retryable:true when the deadline passes during transient failures', async () => {
    const { client, clock, entries } = clientFor(fake, {}, { random: () => 1 });
    fake.fail('/group/refresh.json', ...Array.from({ length: 50 }, () => ({ status: 500 })));
    // Backoff 100, 200, 400, 800 ms fits 2 s; the fifth (1600 ms) would not.
    const error = await catchError(client.call('/group/refresh.json', refresh, { deadline: clock.now() + 2000 }));
    expect(error).toMatchObject({ code: 1000, httpStatus: 500, retryable: true });
    expect(fake.attempts).toHaveLength(5);
    expect(entries.filter((e) => e.message === 'rongcloud call failed')).toHaveLength(5);
  });

  it('starts no attempt once the deadline has passed', async () => {
    const { client, clock } = clientFor(fake);
    await expect(client.call('/group/refresh.json', refresh, { deadline: clock.now() - 1 })).rejects.toMatchObject({ retryable: true });
    expect(fake.attempts).toHaveLength(0);
  });

  it('waits for the group message rate limit before sending', async () => {
    const { client, clock } = clientFor(fake, { rateShare: 2 });
    const started = clock.now();
    const message = { fromUserId: 'u1', toGroupId: 'g1', objectName: 'RC:TxtMsg', content: '{}' };
    for (let i = 0; i < 25; i++) await client.call('/message/group/publish.json', message);
    expect(fake.calls).toHaveLength(25);
    // 10 per second: the 11th waits for the next second, the 21st for the one after.
    expect(clock.now() - started).toBeGreaterThanOrEqual(1000);
    expect(clock.now() - started).toBeLessThan(3000);
  });
});

describe('failover', () => {
  it('moves to the backup URL when the primary refuses connections, and stays there', async () => {
    const observed = observedFetch();
    const primary = `http://127.0.0.1:${await closedPort()}`;
    const { client } = clientFor(fake, { baseUrls: [primary, fake.url] }, { fetch: observed.fetch });
    await client.call('/group/refresh.json', refresh);
    await client.call('/group/refresh.json', refresh);
    expect(observed.urls).toEqual([`${primary}/group/refresh.json`, `${fake.url}/group/refresh.json`, `${fake.url}/group/refresh.json`]);
    expect(fake.calls).toHaveLength(2);
  });

  it('does not swap back within 30 s of a swap, but may after', async () => {
    const backup = await startFakeRongCloud({ appKey: fake.appKey, appSecret: fake.appSecret });
    try {
      const observed = observedFetch();
      const { client, clock } = clientFor(fake, { baseUrls: [fake.url, backup.url] }, { fetch: observed.fetch });
      const host = () => new URL(observed.urls.at(-1) ?? '').origin;

      fake.fail('*', { status: 500 });
      await client.call('/group/refresh.json', refresh);
      expect(observed.urls.map((u) => new URL(u).origin)).toEqual([fake.url, backup.url]);

      clock.advance(10_000);
      backup.fail('*', { status: 503 });
      await client.call('/group/refresh.json', refresh);
      expect(observed.urls.slice(2).map((u) => new URL(u).origin)).toEqual([backup.url, backup.url]);

      clock.advance(21_000);
      backup.fail('*', { status: 502 });
      await client.call('/group/refresh.json', refresh);
      expect(observed.urls.slice(4).map((u) => new URL(u).origin)).toEqual([backup.url, fake.url]);
      expect(host()).toBe(fake.url);
      expect(fake.calls).toHaveLength(1);
      expect(backup.calls).toHaveLength(2);
    } finally {
      await backup.close();
    }
  });

  it('does not swap on a rate limit answer', async () => {
    const observed = observedFetch();
    const { client } = clientFor(fake, { baseUrls: [fake.url, 'http://127.0.0.1:9'] }, { fetch: observed.fetch });
    fake.fail('*', { status: 429, code: 1008 });
    await client.call('/group/refresh.json', refresh);
    expect(observed.urls.map((u) => new URL(u).origin)).toEqual([fake.url, fake.url]);
  });
});

describe('log transport', () => {
  it('writes one JSON line per call and answers code 200', async () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'info';
    process.stdout.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      const transport = createLogTransport(createLogger({ service: 'test' }));
      await expect(transport.call('/group/create.json', { userId: ['a', 'b'], groupId: 'g1', groupName: 'G', pushContent: undefined })).resolves.toEqual({ code: 200 });
      await transport.call('/group/dismiss.json', { userId: 'a', groupId: 'g1' });
    } finally {
      process.stdout.write = write;
      process.env.LOG_LEVEL = level;
    }
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      message: 'rongcloud call (not sent)',
      path: '/group/create.json',
      form: { userId: ['a', 'b'], groupId: 'g1', groupName: 'G' },
    });
    expect(JSON.parse(lines[0] ?? '').form).not.toHaveProperty('pushContent');
  });
});

describe('rongCloudConfigFromEnv', () => {
  it('is null without an App Key', () => {
    expect(rongCloudConfigFromEnv({})).toBeNull();
    expect(rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: '', RONGCLOUD_APP_SECRET: 's' })).toBeNull();
  });

  it('defaults to the primary and backup API hosts, seconds and a 10 s timeout', () => {
    expect(rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k', RONGCLOUD_APP_SECRET: 's' })).toEqual({
      appKey: 'k',
      appSecret: 's',
      baseUrls: ['https://api.rong-api.com', 'https://api-b.rong-api.com'],
      timestampUnit: 's',
      timeoutMs: 10_000,
    });
  });

  it('reads the per-request timeout and rejects one out of range, naming RONGCLOUD_TIMEOUT_MS', () => {
    expect(rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k', RONGCLOUD_APP_SECRET: 's', RONGCLOUD_TIMEOUT_MS: '750' })?.timeoutMs).toBe(750);
    expect(() => rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k', RONGCLOUD_APP_SECRET: 's', RONGCLOUD_TIMEOUT_MS: 'soon' })).toThrow(
      /RONGCLOUD_TIMEOUT_MS/,
    );
  });

  it('parses a comma-separated URL list and the timestamp unit', () => {
    const config = rongCloudConfigFromEnv({
      RONGCLOUD_APP_KEY: 'k',
      RONGCLOUD_APP_SECRET: 's',
      RONGCLOUD_API_URL: 'http://127.0.0.1:8080/ , https://backup.example.com',
      RONGCLOUD_TIMESTAMP_UNIT: 'ms',
    });
    expect(config).toMatchObject({ baseUrls: ['http://127.0.0.1:8080', 'https://backup.example.com'], timestampUnit: 'ms' });
  });

  it('takes the secret argument over RONGCLOUD_APP_SECRET', () => {
    expect(rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k', RONGCLOUD_APP_SECRET: 'env' }, 'from-secrets-manager')?.appSecret).toBe('from-secrets-manager');
    expect(rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k' }, 'from-secrets-manager')?.appSecret).toBe('from-secrets-manager');
  });

  it('rejects a URL that is not http(s), naming RONGCLOUD_API_URL', () => {
    const env = { RONGCLOUD_APP_KEY: 'k', RONGCLOUD_APP_SECRET: 's' };
    expect(() => rongCloudConfigFromEnv({ ...env, RONGCLOUD_API_URL: 'ftp://api.example.com' })).toThrow(/RONGCLOUD_API_URL/);
    expect(() => rongCloudConfigFromEnv({ ...env, RONGCLOUD_API_URL: 'https://ok.example.com,not a url' })).toThrow(/RONGCLOUD_API_URL/);
  });

  it('rejects an App Key without a secret, naming RONGCLOUD_APP_SECRET', () => {
    expect(() => rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k' })).toThrow(/RONGCLOUD_APP_SECRET/);
    expect(() => rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k', RONGCLOUD_APP_SECRET: ' ' })).toThrow(/RONGCLOUD_APP_SECRET/);
  });

  it('rejects an unknown timestamp unit, naming RONGCLOUD_TIMESTAMP_UNIT', () => {
    expect(() => rongCloudConfigFromEnv({ RONGCLOUD_APP_KEY: 'k', RONGCLOUD_APP_SECRET: 's', RONGCLOUD_TIMESTAMP_UNIT: 'us' })).toThrow(
      /RONGCLOUD_TIMESTAMP_UNIT/,
    );
  });
});
