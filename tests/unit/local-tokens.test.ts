import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSecret, mintToken, parseTokenArgs, profileDetail, publishProfile, readSecretFile, verifyToken, TOKEN_TTL_SECONDS } from '#infra/local/tokens.ts';

const secret = 'unit-test-secret';

describe('mintToken / verifyToken', () => {
  it('round-trips sub and profile claims, issued by sealtalk-local for sealtalk-group-service, for 7 days', async () => {
    const token = await mintToken('alice', { name: 'Alice', group_verify: '0' }, secret);
    const claims = await verifyToken(token, secret);
    expect(claims).toMatchObject({ sub: 'alice', name: 'Alice', group_verify: '0', iss: 'sealtalk-local', aud: 'sealtalk-group-service' });
    expect((claims?.exp ?? 0) - (claims?.iat ?? 0)).toBe(TOKEN_TTL_SECONDS);
  });

  it('rejects an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await verifyToken(await mintToken('alice', {}, secret, { now: now - 8 * 86400 }), secret)).toBeNull();
    expect(await verifyToken(await mintToken('alice', {}, secret, { expiresIn: -1 }), secret)).toBeNull();
  });

  it('rejects another audience or issuer', async () => {
    expect(await verifyToken(await mintToken('alice', {}, secret, { audience: 'other' }), secret)).toBeNull();
    expect(await verifyToken(await mintToken('alice', {}, secret, { issuer: 'other' }), secret)).toBeNull();
  });

  it('rejects tampering: another secret, an edited payload, alg none, garbage', async () => {
    const token = await mintToken('alice', {}, secret);
    expect(await verifyToken(token, `${secret}x`)).toBeNull();
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: 'mallory' })).toString('base64url');
    expect(await verifyToken(`${header}.${forged}.${signature}`, secret)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(await verifyToken(`${none}.${token.split('.')[1]}.`, secret)).toBeNull();
    expect(await verifyToken('garbage', secret)).toBeNull();
  });

  it('only mints for user ids of 1 to 64 characters', async () => {
    await expect(mintToken('', {}, secret)).rejects.toThrow();
    await expect(mintToken('u'.repeat(65), {}, secret)).rejects.toThrow();
    expect(await verifyToken(await mintToken('u'.repeat(64), {}, secret), secret)).not.toBeNull();
  });
});

describe('loadSecret', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('creates a random secret once, mode 0600, and reuses it', () => {
    vi.stubEnv('LOCAL_JWT_SECRET', '');
    const dir = join(mkdtempSync(join(tmpdir(), 'tokens-')), 'nested');
    const first = loadSecret(dir);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadSecret(dir)).toBe(first);
    expect(readFileSync(join(dir, 'local-jwt-secret'), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, 'local-jwt-secret')).mode & 0o777).toBe(0o600);
  });

  it('reads an existing secret file without creating anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokens-'));
    expect(() => readSecretFile(join(dir, 'missing', 'local-jwt-secret'))).toThrow();
    expect(() => statSync(join(dir, 'missing'))).toThrow();
    vi.stubEnv('LOCAL_JWT_SECRET', '');
    const secret = loadSecret(dir);
    expect(readSecretFile(join(dir, 'local-jwt-secret'))).toBe(secret);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prefers LOCAL_JWT_SECRET', () => {
    vi.stubEnv('LOCAL_JWT_SECRET', 'from-env');
    expect(loadSecret(mkdtempSync(join(tmpdir(), 'tokens-')))).toBe('from-env');
  });
});

describe('npm run token arguments', () => {
  it('maps flags to claims', () => {
    expect(
      parseTokenArgs(['alice', '--name', 'Alice', '--portrait', 'https://p', '--phone', '+86 1', '--gender', 'female', '--st-account', 'al', '--group-verify=0']),
    ).toEqual({
      ok: true,
      userId: 'alice',
      claims: { name: 'Alice', picture: 'https://p', phone_number: '+86 1', gender: 'female', st_account: 'al', group_verify: '0' },
    });
  });

  it('rejects missing or over-long user ids, unknown flags, missing values and bad group-verify', () => {
    for (const argv of [[], ['u'.repeat(65)], ['a', '--nope', 'x'], ['a', '--name'], ['a', '--group-verify', '2'], ['a', 'b']]) {
      expect(parseTokenArgs(argv).ok, argv.join(' ')).toBe(false);
    }
  });
});

describe('publishing the profile on the local bus', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  interface Recorded {
    method: string;
    headers: IncomingMessage['headers'];
    body: { Entries?: unknown[] };
  }

  /** A PutEvents endpoint that records each request and answers with `reply`. */
  const fakeBus = async (reply: { status: number; body: unknown }): Promise<{ endpoint: string; requests: Recorded[] }> => {
    const requests: Recorded[] = [];
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        requests.push({ method: req.method ?? '', headers: req.headers, body: JSON.parse(text) as Recorded['body'] });
        res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
  };

  it('maps the profile flags given, and only those, to the UserProfileUpdated detail', () => {
    expect(profileDetail('alice', {})).toBeUndefined();
    expect(profileDetail('alice', { name: 'Alice', group_verify: '0' })).toEqual({ userId: 'alice', nickname: 'Alice', groupVerify: 0 });
    expect(
      profileDetail('bob', { name: 'Bob', picture: 'https://p', phone_number: '+86 1', gender: 'male', st_account: 'bob1', group_verify: '1' }),
    ).toEqual({ userId: 'bob', nickname: 'Bob', portraitUri: 'https://p', phone: '+86 1', gender: 'male', stAccount: 'bob1', groupVerify: 1 });
  });

  it('puts one sealtalk.user UserProfileUpdated event on the named bus with PutEvents', async () => {
    const bus = await fakeBus({ status: 200, body: { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] } });
    await publishProfile({ endpoint: bus.endpoint, busName: 'sealtalk-local' }, { userId: 'alice', nickname: 'Alice', groupVerify: 0 });
    expect(bus.requests).toHaveLength(1);
    const [request] = bus.requests;
    expect(request?.method).toBe('POST');
    expect(request?.headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    expect(request?.body.Entries).toEqual([
      {
        EventBusName: 'sealtalk-local',
        Source: 'sealtalk.user',
        DetailType: 'UserProfileUpdated',
        Detail: JSON.stringify({ userId: 'alice', nickname: 'Alice', groupVerify: 0 }),
      },
    ]);
  });

  it('fails when the bus refuses the entry or answers an error', async () => {
    const refusing = await fakeBus({
      status: 200,
      body: { FailedEntryCount: 1, Entries: [{ ErrorCode: 'NotFound', ErrorMessage: 'no such bus' }] },
    });
    await expect(publishProfile({ endpoint: refusing.endpoint, busName: 'nope' }, { userId: 'alice', nickname: 'A' })).rejects.toThrow(
      'the bus refused the event: NotFound (no such bus)',
    );
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    const broken = await fakeBus({ status: 500, body: { __type: 'InternalException', message: 'boom' } });
    await expect(publishProfile({ endpoint: broken.endpoint, busName: 'b' }, { userId: 'alice', nickname: 'A' })).rejects.toThrow();
  });
});
