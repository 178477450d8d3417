import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';
import { USER_EVENT_SOURCE, type UserProfileUpdated } from '#lib/events/index.ts';

/**
 * Local tokens: HS256 JWTs the local gateway verifies the way API Gateway's JWT authorizer verifies
 * Cognito's (issuer, audience, expiry), carrying the same claims handlers read.
 */

export const LOCAL_ISSUER = 'sealtalk-local';
export const LOCAL_AUDIENCE = 'sealtalk-group-service';
export const TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;
export const SECRET_FILE = 'local-jwt-secret';
export const USER_ID_MAX = 64;

/** Profile claims a token may carry, named as in the JWT (what handlers read). */
export type ProfileClaimValues = {
  name?: string;
  picture?: string;
  phone_number?: string;
  gender?: string;
  st_account?: string;
  /** `'0'` or `'1'`. */
  group_verify?: string;
};

export type TokenClaims = ProfileClaimValues & Record<string, string | number | boolean | undefined>;

export interface MintOptions {
  /** Lifetime in seconds (default 7 days); negative values mint an already expired token. */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  /** Issue time in epoch seconds (default: now). */
  now?: number;
}

const key = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/**
 * The signing secret: `LOCAL_JWT_SECRET` if set, else a random one kept in
 * `<dataDir>/local-jwt-secret` (created on first use, mode 0600), so tokens survive restarts.
 */
export const loadSecret = (dataDir: string = process.env.DATA_DIR || '.data'): string => {
  const fromEnv = process.env.LOCAL_JWT_SECRET;
  if (fromEnv) return fromEnv;
  const file = join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readSecretFile(file);
};

/** The secret in `file` (an existing server's): never creates anything. */
export const readSecretFile = (file: string): string => {
  const secret = readFileSync(file, 'utf8').trim();
  if (!secret) throw new Error(`${file} is empty: delete it to get a new secret`);
  return secret;
};

/** Signs a token for `userId` (`sub`) with the given profile claims. */
export const mintToken = async (userId: string, claims: TokenClaims, secret: string, options: MintOptions = {}): Promise<string> => {
  if (userId.length < 1 || userId.length > USER_ID_MAX) throw new Error(`userId must be 1-${USER_ID_MAX} characters`);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {};
  for (const [name, value] of Object.entries(claims)) if (value !== undefined) payload[name] = value;
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(options.issuer ?? LOCAL_ISSUER)
    .setAudience(options.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? TOKEN_TTL_SECONDS))
    .sign(key(secret));
};

/**
 * The token's claims if it is an HS256 token signed with `secret`, from our issuer, for our
 * audience, unexpired and with a 1-64 character `sub`; otherwise `null`.
 */
export const verifyToken = async (token: string, secret: string): Promise<JWTPayload | null> => {
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: ['HS256'],
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      requiredClaims: ['sub', 'exp'],
    });
    if (typeof payload.sub !== 'string' || payload.sub.length < 1 || payload.sub.length > USER_ID_MAX) return null;
    return payload;
  } catch {
    return null;
  }
};

// --- `npm run token` arguments -------------------------------------------------------------------

/** CLI flag → JWT claim. */
export const CLAIM_FLAGS = {
  '--name': 'name',
  '--portrait': 'picture',
  '--phone': 'phone_number',
  '--gender': 'gender',
  '--st-account': 'st_account',
  '--group-verify': 'group_verify',
} as const satisfies Record<string, keyof ProfileClaimValues>;

export const TOKEN_USAGE =
  'usage: npm run token -- <userId> [--name N] [--portrait URL] [--phone P] [--gender G] [--st-account A] [--group-verify 0|1]';

export type TokenArgs = { ok: true; userId: string; claims: ProfileClaimValues } | { ok: false; error: string };

/** Parses `<userId> [--flag value | --flag=value]...`. */
export const parseTokenArgs = (argv: readonly string[]): TokenArgs => {
  let userId: string | undefined;
  const claims: ProfileClaimValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const flag = eq === -1 ? arg : arg.slice(0, eq);
      if (!(flag in CLAIM_FLAGS)) return { ok: false, error: `unknown option ${flag}` };
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) return { ok: false, error: `${flag} needs a value` };
      const claim = CLAIM_FLAGS[flag as keyof typeof CLAIM_FLAGS];
      if (claim === 'group_verify' && value !== '0' && value !== '1') return { ok: false, error: '--group-verify must be 0 or 1' };
      claims[claim] = value;
    } else if (userId === undefined) {
      userId = arg;
    } else {
      return { ok: false, error: `unexpected argument ${arg}` };
    }
  }
  if (userId === undefined) return { ok: false, error: 'missing <userId>' };
  if (userId.length < 1 || userId.length > USER_ID_MAX) return { ok: false, error: `<userId> must be 1-${USER_ID_MAX} characters` };
  return { ok: true, userId, claims };
};

// --- publishing the profile, as an identity provider's user service would ------------------------

/** The `UserProfileUpdated` detail for the profile claims given (`undefined` when none was). */
export const profileDetail = (userId: string, claims: ProfileClaimValues): UserProfileUpdated | undefined => {
  const detail: UserProfileUpdated = { userId };
  if (claims.name !== undefined) detail.nickname = claims.name;
  if (claims.picture !== undefined) detail.portraitUri = claims.picture;
  if (claims.phone_number !== undefined) detail.phone = claims.phone_number;
  if (claims.gender !== undefined) detail.gender = claims.gender;
  if (claims.st_account !== undefined) detail.stAccount = claims.st_account;
  if (claims.group_verify !== undefined) detail.groupVerify = claims.group_verify === '0' ? 0 : 1;
  return Object.keys(detail).length > 1 ? detail : undefined;
};

export interface LocalBus {
  /** The local bus's PutEvents endpoint (`http://127.0.0.1:<port>`). */
  endpoint: string;
  busName: string;
}

/**
 * Puts one `UserProfileUpdated` (source `sealtalk.user`) on the local bus, so the profile applies
 * before the user's first request. Throws when the bus cannot be reached or refuses the entry.
 */
export const publishProfile = async (bus: LocalBus, detail: UserProfileUpdated, timeoutMs = 5_000): Promise<void> => {
  const client = new EventBridgeClient({
    endpoint: bus.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: bus.busName, Source: USER_EVENT_SOURCE, DetailType: 'UserProfileUpdated', Detail: JSON.stringify(detail) }],
      }),
      { abortSignal: AbortSignal.timeout(timeoutMs) },
    );
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0];
      throw new Error(`the bus refused the event: ${entry?.ErrorCode ?? 'unknown error'}${entry?.ErrorMessage ? ` (${entry.ErrorMessage})` : ''}`);
    }
  } finally {
    client.destroy();
  }
};
