import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSecret, mintToken, parseTokenArgs, verifyToken, TOKEN_TTL_SECONDS } from '#infra/local/tokens.ts';

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
