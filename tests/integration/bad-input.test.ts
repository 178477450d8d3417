import { DeleteItemCommand, PutItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTable, localClient } from '#infra/local/dynamodb.ts';
import { buildEvent, lambdaContext, loadHandler } from '#infra/local/gateway.ts';
import type { EndpointHandler } from '#lib/http/endpoint.ts';
import { encodeCursor } from '#lib/http/fields.ts';
import { routeKey, routes, type Route } from '#lib/routes.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { invoke } from '#tests/helpers/lambda.ts';

/**
 * Bad input, property-based, on every route of lib/routes.ts (issue 10): one field at a time turned
 * into a wrong type, an out-of-range number, a huge string, a deeply nested value, a unicode edge
 * case, a prototype-pollution key or an id with key separators; plus whole bodies (any JSON, not
 * JSON, not an object) and, for GET routes, query strings and path parameters. Every answer is a 200
 * or a 4xx with the `{code, message}` envelope (never a 5xx, never a throw); a 4xx to a field-level
 * mutation names the field (or is one of the reference's own messages, listed below); and every
 * rejected request leaves the table byte for byte as it was (a full consistent Scan before and after).
 *
 * A run is reproducible: fast-check prints its seed and path on failure; `BAD_INPUT_SEED=<seed>`
 * replays it.
 */

// A table of this file's own, without a stream (DynamoDB Local slows down as a stream grows), so
// the full scans see only this file's items. vi.hoisted runs before the imports above.
vi.hoisted(() => {
  process.env.TABLE_NAME = `sealtalk-test-bad-input-${Math.random().toString(16).slice(2, 10)}`;
});

const SEED = process.env.BAD_INPUT_SEED === undefined ? undefined : Number(process.env.BAD_INPUT_SEED);
if (SEED !== undefined) fc.configureGlobal({ seed: SEED });

/**
 * Field-level and whole-input mutations per route (~44 requests a route, ~1 400 in all: 8–15 s on
 * a 2-core machine). `BAD_INPUT_RUNS=<n>` runs n field-level mutations a route instead, for a deeper hunt.
 */
const FIELD_RUNS = process.env.BAD_INPUT_RUNS === undefined ? 32 : Number(process.env.BAD_INPUT_RUNS);
const WHOLE_RUNS = Math.ceil(FIELD_RUNS * 0.375);
const TIMEOUT_MS = Math.max(30_000, FIELD_RUNS * 750);

const prototypeKeysBefore = Object.getOwnPropertyNames(Object.prototype).sort();
const arrayPrototypeKeysBefore = Object.getOwnPropertyNames(Array.prototype).sort();

// ---- The table: full consistent scans, canonical JSON, restore --------------------------------

type Item = Record<string, AttributeValue>;
let ddb: DynamoDBClient;
const TABLE = (): string => process.env.TABLE_NAME as string;

/** JSON with sorted object keys (sets sorted too, binaries as base64): equal items, equal strings. */
const canonical = (value: unknown, key?: string): unknown => {
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) {
    const list = value.map((v) => canonical(v));
    return key === 'SS' || key === 'NS' || key === 'BS' ? list.map((v) => JSON.stringify(v)).sort() : list;
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k], k)]),
    );
  }
  return value;
};

const keyOf = (item: Item): string => JSON.stringify([item.pk?.S, item.sk?.S]);

const scanItems = async (): Promise<Map<string, { item: Item; text: string }>> => {
  const items = new Map<string, { item: Item; text: string }>();
  let start: Item | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: TABLE(), ConsistentRead: true, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) items.set(keyOf(item), { item, text: JSON.stringify(canonical(item)) });
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

/** The whole table as one string: items sorted by key, each canonical JSON. */
const render = (items: Map<string, { text: string }>): string =>
  [...items.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v.text)
    .join('\n');

/** What changed between two scans, for failure messages. */
const diff = (before: Map<string, { text: string }>, after: Map<string, { text: string }>): string => {
  const lines: string[] = [];
  for (const [k, v] of after) {
    const was = before.get(k);
    if (!was) lines.push(`+ ${v.text.slice(0, 300)}`);
    else if (was.text !== v.text) lines.push(`~ ${k}: ${was.text.slice(0, 200)} -> ${v.text.slice(0, 300)}`);
  }
  for (const k of before.keys()) if (!after.has(k)) lines.push(`- ${k}`);
  return lines.slice(0, 10).join('\n');
};

let initial: Map<string, { item: Item; text: string }>;

/** Puts the table back to the fixture (what valid mutations of a route wrote is undone). */
const restore = async (): Promise<void> => {
  const now = await scanItems();
  for (const [k, { item }] of now) {
    if (!initial.has(k)) await ddb.send(new DeleteItemCommand({ TableName: TABLE(), Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue } }));
  }
  for (const [k, { item, text }] of initial) {
    if (now.get(k)?.text !== text) await ddb.send(new PutItemCommand({ TableName: TABLE(), Item: item }));
  }
  expect(render(await scanItems())).toBe(render(initial));
};

// ---- Requests: the exact event API Gateway builds, with bodies and parameters as given ----------

interface Request {
  /** Raw body text (POST/DELETE); undefined: no body. */
  body?: string;
  base64?: boolean;
  /** Query string parameters as the event carries them (built from JSON text: `__proto__` is an own key). */
  query?: Record<string, string>;
  path?: Record<string, string>;
}

interface Answer {
  status: number;
  body: { code?: number; message?: string; result?: unknown } | undefined;
}

const safeEncode = (s: string): string => {
  try {
    return encodeURIComponent(s);
  } catch {
    return 'x';
  }
};

const send = async (route: Route, as: string, request: Request): Promise<Answer> => {
  const rawPath = route.path.replace(/\{(\w+)\}/g, (_, name: string) => safeEncode(request.path?.[name] ?? ''));
  const event = buildEvent({
    route,
    rawPath,
    headers: { host: 'localhost', 'user-agent': 'vitest', ...(request.body === undefined ? {} : { 'content-type': 'application/json' }) },
    claims: { sub: as, iss: 'sealtalk-local', aud: 'sealtalk-group-service' },
    body: request.body === undefined ? undefined : request.base64 ? Buffer.from(request.body).toString('base64') : request.body,
  });
  event.isBase64Encoded = request.base64 === true;
  if (request.query && Object.keys(request.query).length > 0) event.queryStringParameters = request.query;
  if (request.path && Object.keys(request.path).length > 0) event.pathParameters = request.path;
  const answer = await invoke<Answer['body']>(await loadHandler(route.handler), event, lambdaContext(route.handler));
  return { status: answer.status, body: answer.body };
};

/** An object from JSON text, so keys like `__proto__` are own keys, as in the event Lambda parses. */
const objectFromEntries = (entries: [string, string][]): Record<string, string> =>
  JSON.parse(`{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`) as Record<string, string>;

// ---- The fixture ---------------------------------------------------------------------------------

const OWNER = uniqueUserId('owner');
const MANAGER = uniqueUserId('manager');
const MEMBER = uniqueUserId('member');
const STRANGER = uniqueUserId('stranger');
const CREATOR = uniqueUserId('creator');
const EXTRA = uniqueUserId('extra');
let GROUP = '';

const routeOf = (method: string, path: string): Route => routes.find((r) => r.method === method && r.path === path) as Route;

const setUp = async (method: string, path: string, as: string, body?: unknown): Promise<unknown> => {
  const answer = await send(routeOf(method, path), as, body === undefined ? {} : { body: JSON.stringify(body) });
  if (answer.status !== 200 || answer.body?.code !== 200) throw new Error(`set-up ${method} ${path} failed: ${JSON.stringify(answer.body)}`);
  return answer.body.result;
};

// ---- Per-route specs: the caller and one valid request; fields come from the handler's contract --

interface Spec {
  as: string;
  /** A valid JSON body (POST/DELETE). */
  body?: () => Record<string, unknown>;
  /** Valid query parameters (GET). */
  query?: () => Record<string, string>;
  /** Valid path parameters (GET). */
  path?: () => Record<string, string>;
  /** Fields one 400 may name for another (`content`/`bulletin`, `groupId`/`id`). */
  aliases?: Record<string, string[]>;
}

const specs: Record<string, Spec> = {
  'POST /group/create': { as: CREATOR, body: () => ({ name: 'Bad input', memberIds: [EXTRA] }) },
  'POST /group/add': { as: OWNER, body: () => ({ groupId: GROUP, memberIds: [EXTRA] }) },
  'POST /group/join': { as: STRANGER, body: () => ({ groupId: GROUP }) },
  'POST /group/kick': { as: OWNER, body: () => ({ groupId: GROUP, memberIds: [MEMBER] }) },
  'POST /group/quit': { as: MEMBER, body: () => ({ groupId: GROUP }) },
  'POST /group/dismiss': { as: OWNER, body: () => ({ groupId: GROUP }) },
  'POST /group/transfer': { as: OWNER, body: () => ({ groupId: GROUP, userId: MEMBER }) },
  'POST /group/set_manager': { as: OWNER, body: () => ({ groupId: GROUP, memberIds: [MEMBER] }) },
  'POST /group/remove_manager': { as: OWNER, body: () => ({ groupId: GROUP, memberIds: [MANAGER] }) },
  'POST /group/rename': { as: OWNER, body: () => ({ groupId: GROUP, name: 'Renamed' }) },
  'POST /group/fav': { as: MEMBER, body: () => ({ groupId: GROUP }) },
  'DELETE /group/fav': { as: OWNER, body: () => ({ groupId: GROUP }) },
  'POST /group/set_bulletin': { as: OWNER, body: () => ({ groupId: GROUP, content: 'News' }), aliases: { content: ['bulletin'], bulletin: ['content'] } },
  'GET /group/get_bulletin': { as: MEMBER, query: () => ({ groupId: GROUP }), aliases: { groupId: ['id'], id: ['groupId'] } },
  'POST /group/set_portrait_uri': { as: OWNER, body: () => ({ groupId: GROUP, portraitUri: 'https://example.com/p.png' }) },
  'POST /group/set_display_name': { as: MEMBER, body: () => ({ groupId: GROUP, displayName: 'Me' }) },
  'POST /group/set_certification': { as: OWNER, body: () => ({ groupId: GROUP, certiStatus: 1 }) },
  'POST /group/agree': { as: OWNER, body: () => ({ groupId: GROUP, receiverId: STRANGER, status: 1 }) },
  'GET /group/notice_info': { as: OWNER, query: () => ({}) },
  'POST /group/clear_notice': { as: OWNER, body: () => ({}) },
  'POST /group/mute_all': { as: OWNER, body: () => ({ groupId: GROUP, muteStatus: 1, userId: [MANAGER] }) },
  'POST /group/set_regular_clear': { as: OWNER, body: () => ({ groupId: GROUP, clearStatus: 3 }) },
  'POST /group/get_regular_clear': { as: MEMBER, body: () => ({ groupId: GROUP }) },
  'POST /group/set_member_protection': { as: OWNER, body: () => ({ groupId: GROUP, memberProtection: 1 }) },
  'POST /group/set_member_info': {
    as: OWNER,
    body: () => ({ groupId: GROUP, memberId: MEMBER, groupNickname: 'Nick', region: '86', phone: '123', WeChat: 'w', Alipay: 'a', memberDesc: ['d'] }),
  },
  'POST /group/get_member_info': { as: MEMBER, body: () => ({ groupId: GROUP, memberId: OWNER }) },
  'POST /group/copy_group': { as: OWNER, body: () => ({ groupId: GROUP, name: 'Copy' }) },
  'POST /group/exited_list': { as: OWNER, body: () => ({ groupId: GROUP }) },
  'GET /group/{id}': { as: MEMBER, path: () => ({ id: GROUP }) },
  'GET /group/{id}/members': { as: MEMBER, path: () => ({ id: GROUP }), query: () => ({ limit: '2', cursor: encodeCursor(MANAGER) }) },
  'GET /user/groups': { as: OWNER, query: () => ({}) },
  'GET /user/favgroups': { as: OWNER, query: () => ({ limit: '10', offset: '0' }) },
};

/**
 * The only answers to a field-level mutation that do not name the field: the domain keeps the
 * reference's exact wording for them (docs/decisions.md; tests/integration/departures-kick.test.ts),
 * and each says what was wrong with exactly that field. Listed with the fields they may answer for.
 */
const REFERENCE_MESSAGES: Record<string, string[]> = {
  'Unknown group.': ['groupId', 'id'], // 404 for an id of no group, on every endpoint
  'Can not kick none-member from the group.': ['memberIds'], // 400 of kick
  // 400 of add, once an earlier accepted mutation of the same run made an entry a member
  'Should not add exist member to the group.': ['memberIds'],
};

/** The top-level field names of a handler's input schema (objects, possibly refined and transformed). */
const fieldsOf = (schema: z.core.$ZodType): string[] => {
  if (schema instanceof z.core.$ZodObject) return Object.keys(schema._zod.def.shape);
  if (schema instanceof z.core.$ZodPipe) return fieldsOf(schema._zod.def.in);
  throw new Error(`cannot read the fields of a ${schema._zod.def.type} input schema`);
};

// ---- Mutations -------------------------------------------------------------------------------------

/** A mutated value: raw JSON text (undefined: the field is absent), shown compactly in counterexamples. */
interface Mutation {
  kind: string;
  raw: string | undefined;
  [fc.toStringMethod]: () => string;
}

const short = (s: string | undefined): string => (s === undefined ? '<absent>' : s.length > 120 ? `${s.slice(0, 80)}…(${s.length} chars)` : s);
const mutation = (kind: string, raw: string | undefined, show = short(raw)): Mutation => ({ kind, raw, [fc.toStringMethod]: () => `${kind}: ${show}` });
const json = (value: unknown): string => JSON.stringify(value);

const SPECIAL_CHARS = [
  '\uD800', '\uDBFF', '\uDC00', '\uDFFF', // lone surrogates
  '\u202E', '\u202D', '\u200F', '\u061C', // bidi overrides and marks
  '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', // zero-width
  '\u0000', '\u0001', '\u001F', '\u007F', '\u0085', '\u2028', '\u2029', // NUL, controls, separators
  '\uFFFD', '\uFFFE', '\uFFFF', '😀', '👩‍👩‍👧‍👦', '🇨🇳', 'é', 'e\u0301', '𝕏', 'עברית', 'العربية', '中文',
  '<script>', '&lt;', '%00', '\\', '"', "'", '`', '${x}',
];
const ID_PREFIXES = ['', '#', 'MEMBER#', 'GROUP#', 'USER#', 'NOTICE#1#', 'INBOX#', 'FAV#', 'EXITED#', 'BULLETIN#', 'OUTBOX#', '/', '../', './', ' ', '\t', '\n', '%2F', '%23', '*'];
const ID_SUFFIXES = ['', '#', '#META', '#PROFILE', '/', '/..', ' ', '\t', '\n', '#0', '%00', '..', '\u0000'];
const STANDALONE_IDS = ['#', '##', 'MEMBER#', 'GROUP#', 'USER#', 'META', 'PROFILE', '/', '..', '.', ' ', '   ', '\t\n', 'undefined', 'null', 'NaN'];

const wrongType = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '0', '-1', '1.5', '[]', '{}', '""', '"0"', '"1"', '[null]', '[""]', '[1]', '[[]]', '[{}]', '{"a":1}'),
  fc.jsonValue({ maxDepth: 3 }).map(json),
).map((raw) => mutation('wrong type', raw));

const numbers = fc.oneof(
  fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '9007199254740993', '123456789012345678901234567890', '2147483648', '-2147483649', '4294967296', '0.0000001', '1E2', '2', '4', '35', '-3', '3.0'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(json),
).map((raw) => mutation('number', raw));

/** A string value, bare or in an array (alone, or after a valid entry so the index is named). */
const placed = (kind: string, strings: fc.Arbitrary<string>, valid: string, list: boolean) =>
  fc.tuple(strings, list ? fc.constantFrom('bare', 'array', 'second', 'second') : fc.constantFrom('bare', 'bare', 'bare', 'array')).map(([s, how]) =>
    mutation(kind, how === 'bare' ? json(s) : how === 'array' ? json([s]) : json([valid, s]), `${how} ${short(json(s))}`),
  );

const huge = (valid: string, list: boolean) =>
  fc.oneof(
    placed(
      'huge string',
      fc.tuple(fc.constantFrom('a', '#', '😀', '\u0000', '\u200B', '\uD800', ' ', 'é', 'MEMBER#'), fc.integer({ min: 60_000, max: 110_000 })).map(([unit, n]) =>
        unit.repeat(Math.ceil(n / unit.length)),
      ),
      valid,
      list,
    ),
    fc.integer({ min: 5_000, max: 30_000 }).map((n) => mutation('huge array', json(Array.from({ length: n }, (_, i) => `${valid}${i}`)), `array of ${n} ids`)),
    fc.integer({ min: 2_000, max: 10_000 }).map((n) =>
      mutation('huge object', `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`, `object of ${n} keys`),
    ),
  );

const deep = (valid: string) =>
  fc.tuple(fc.integer({ min: 1_000, max: 5_000 }), fc.constantFrom('array', 'object', 'mixed', 'in-list')).map(([depth, shape]) => {
    const arrays = '['.repeat(depth) + ']'.repeat(depth);
    const objects = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const mixed = '[{"a":'.repeat(depth) + 'null' + '}]'.repeat(depth);
    const raw = shape === 'array' ? arrays : shape === 'object' ? objects : shape === 'mixed' ? mixed : `[${json(valid)},${arrays}]`;
    return mutation('deep', raw, `${shape} of depth ${depth}`);
  });

const unicode = (valid: string, reals: string[], list: boolean) =>
  placed(
    'unicode',
    fc.oneof(
      fc.array(fc.constantFrom(...SPECIAL_CHARS), { minLength: 1, maxLength: 8 }).map((a) => a.join('')),
      fc.tuple(fc.constantFrom(...SPECIAL_CHARS), fc.constantFrom(...reals), fc.boolean()).map(([c, real, before]) => (before ? c + real : real + c)),
      fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n)), minLength: 1, maxLength: 40 }),
    ),
    valid,
    list,
  );

const proto = fc
  .constantFrom(
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"__proto__":null}',
    '{"__proto__":[]}',
    '[{"__proto__":{"polluted":"yes"}}]',
    '"__proto__"',
    '"constructor"',
    '"prototype"',
    '["__proto__"]',
    '["constructor","prototype"]',
    '"toString"',
    '"hasOwnProperty"',
    '"valueOf"',
  )
  .map((raw) => mutation('prototype key', raw));

/** Ids that look almost right: other case, one character off, the longest and one too long. */
const nearIds = (reals: string[]) =>
  fc
    .tuple(fc.constantFrom(...reals), fc.constantFrom('upper', 'lower', 'shorter', 'longer', 'max', 'over'))
    .map(([real, how]) =>
      how === 'upper' ? real.toUpperCase() : how === 'lower' ? real.toLowerCase() : how === 'shorter' ? real.slice(0, -1) : how === 'longer' ? `${real}0` : how === 'max' ? 'a'.repeat(64) : 'a'.repeat(65),
    )
    .filter((id) => !reals.includes(id));

const separators = (valid: string, reals: string[], list: boolean) =>
  placed(
    'key separators',
    fc.oneof(
      fc
        .tuple(fc.constantFrom(...ID_PREFIXES), fc.constantFrom(...reals), fc.constantFrom(...ID_SUFFIXES))
        .filter(([p, , s]) => p + s !== '')
        .map(([p, real, s]) => p + real + s),
      fc.constantFrom(...STANDALONE_IDS),
      nearIds(reals),
    ),
    valid,
    list,
  );

/** Well-formed paging cursors (base64url JSON) around odd keys: separators, unicode, other users. */
const cursors = (reals: string[]) =>
  fc
    .oneof(
      fc.tuple(fc.constantFrom(...ID_PREFIXES), fc.constantFrom(...reals), fc.constantFrom(...ID_SUFFIXES)).map(([p, real, s]) => p + real + s),
      fc.array(fc.constantFrom(...SPECIAL_CHARS), { minLength: 1, maxLength: 8 }).map((a) => a.join('')),
      fc.constantFrom(...STANDALONE_IDS),
    )
    .map((s) => mutation('cursor', json(encodeCursor(s)), `cursor of ${short(json(s))}`));

const absent = fc.constantFrom<string | undefined>(undefined, '""', 'null').map((raw) => mutation('absent/empty', raw));

const fieldMutation = (valid: string, reals: string[], list: boolean): fc.Arbitrary<Mutation> =>
  fc.oneof(wrongType, numbers, huge(valid, list), deep(valid), unicode(valid, reals, list), proto, separators(valid, reals, list), cursors(reals), absent);

/** Whole-body mutations (POST/DELETE): any JSON, not JSON, not an object, pollution, duplicate keys. */
type Whole = { kind: string; body: string; base64?: boolean; [fc.toStringMethod]: () => string };
const whole = (kind: string, body: string, base64 = false): Whole => ({ kind, body, base64, [fc.toStringMethod]: () => `${kind}: ${short(body)}` });

const wholeBody = (base: () => Record<string, unknown>, fields: string[]): fc.Arbitrary<Whole> => {
  const baseText = (): string => json(base()).slice(1, -1);
  const withBase = (extra: string): string => `{${[baseText(), extra].filter(Boolean).join(',')}}`;
  return fc.oneof(
    fc.jsonValue().map((v) => whole('any JSON', json(v))),
    fc.constantFrom('[]', '"body"', '1', '0', 'null', 'true', 'false', '[{}]', `[${json(base())}]`, '1e400').map((b) => whole('not an object', b)),
    fc
      .oneof(
        fc.constantFrom('{', '{"groupId":', 'undefined', 'NaN', "{'a':1}", '{"a":1,}', '\uFEFF{}', '\u0000', '{"a":1}x', '[', '"unterminated', '{"a":"\\uZZZZ"}', '  ', '//{}'),
        fc.string({ minLength: 1 }).filter((s) => {
          try {
            JSON.parse(s);
            return false;
          } catch {
            return true;
          }
        }),
      )
      .map((b) => whole('not JSON', b)),
    fc.constantFrom('\u00FF\u00FE{', '{"a":', '{}}').map((b) => whole('not JSON (base64)', b, true)),
    fc
      .constantFrom(
        '"__proto__":{"polluted":"yes"}',
        '"constructor":{"prototype":{"polluted":"yes"}}',
        '"prototype":{"polluted":"yes"}',
        ...fields.map((f) => `"__proto__":{${json(f)}:"polluted"}`),
      )
      .map((extra) => whole('prototype keys', withBase(extra))),
    fc
      .tuple(fc.constantFrom(...(fields.length > 0 ? fields : ['groupId'])), fc.jsonValue({ maxDepth: 2 }))
      .map(([f, v]) => whole('duplicate key', withBase(`${json(f)}:${json(v)}`))),
    fc.tuple(fc.string(), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => whole('unknown field', withBase(`${json(k)}:${json(v)}`))),
    fc.integer({ min: 1_000, max: 5_000 }).chain((depth) =>
      fc.constantFrom(
        whole('not an object (deep)', '['.repeat(depth) + ']'.repeat(depth)),
        whole('deep field', withBase(`"deep":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
        whole('deep field', withBase(`"deep":${'['.repeat(depth)}${']'.repeat(depth)}`)),
      ),
    ),
    fc.integer({ min: 100_000, max: 1_000_000 }).map((n) => whole('huge body', withBase(`"pad":${json('a'.repeat(n))}`))),
  );
};

/** Whole query mutations (GET): any parameters, prototype keys included. */
const wholeQuery = (fields: string[]) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', ...fields), fc.string({ maxLength: 10 })),
        fc.oneof(
          fc.string(),
          fc.constantFrom('{"polluted":"yes"}', '__proto__', '', '1e400', '-1', '#', 'MEMBER#', '\uD800', '\u202E\u200B\u0000', 'a'.repeat(100_000), '['.repeat(3_000)),
        ),
      ),
      { maxLength: 6 },
    )
    .map((entries) => ({ entries, [fc.toStringMethod]: () => `query ${json(entries).slice(0, 200)}` }));

// ---- The checks --------------------------------------------------------------------------------

let before = new Map<string, { item: Item; text: string }>();
const counts = { requests: 0, rejected: 0, accepted: 0 };

/** Never a 5xx; errors in the envelope; a rejected request leaves the table as it was. */
const judge = async (label: string, answer: Answer, names?: string[]): Promise<void> => {
  counts.requests++;
  const shown = `${label} → ${answer.status} ${short(JSON.stringify(answer.body))}`;
  expect(answer.status, shown).toBeLessThan(500);
  if (answer.status !== 200) expect(answer.body, shown).toEqual({ code: answer.status, message: expect.any(String) });
  const rejected = answer.status !== 200 || answer.body?.code !== 200;
  if (rejected && answer.status >= 400 && names) {
    const message = answer.body?.message ?? '';
    const named = names.some((n) => message.includes(n)) || (REFERENCE_MESSAGES[message] ?? []).some((n) => names.includes(n));
    expect(named, `${shown}: the message does not name ${names.join(' or ')}`).toBe(true);
  }
  const after = await scanItems();
  if (rejected) {
    counts.rejected++;
    if (render(after) !== render(before)) throw new Error(`${shown}: a rejected request changed the table:\n${diff(before, after)}`);
  } else {
    counts.accepted++;
    before = after;
  }
};

// ---- Set-up -------------------------------------------------------------------------------------

beforeAll(async () => {
  ddb = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  // No stream: nothing relays this file's events, and DynamoDB Local's writes slow down as a stream grows.
  await ensureTable(ddb, TABLE(), undefined, { stream: false });
  GROUP = ((await setUp('POST', '/group/create', OWNER, { name: 'Bad input fixture', memberIds: [MANAGER, MEMBER] })) as { id: string }).id;
  await setUp('POST', '/group/set_manager', OWNER, { groupId: GROUP, memberIds: [MANAGER] });
  await setUp('POST', '/group/set_bulletin', OWNER, { groupId: GROUP, content: 'Hello' });
  await setUp('POST', '/group/fav', OWNER, { groupId: GROUP });
  // Profiles of the callers that are in no group yet (the claim projection writes once per token).
  await setUp('GET', '/user/groups', STRANGER);
  await setUp('GET', '/user/groups', CREATOR);
  initial = await scanItems();
});

afterAll(() => {
  ddb?.destroy();
});

// ---- The properties, one test per route of the table --------------------------------------------

describe('bad input on every route: never a 5xx, a 4xx naming the field, the table unchanged when rejected', () => {
  for (const route of routes) {
    const key = routeKey(route);
    it(key, async () => {
      const spec = specs[key];
      expect(spec, `no bad-input generator for ${key}: add one to specs in tests/integration/bad-input.test.ts`).toBeDefined();
      if (!spec) return;
      const handler = ((await import(`#functions/${route.handler}.ts`)) as { handler: EndpointHandler }).handler;
      const fields = fieldsOf(handler.contract.input);
      const given = { ...spec.body?.(), ...spec.query?.(), ...spec.path?.() };
      for (const f of Object.keys(given)) expect(fields, `${key}: the spec's field ${f} is not in the handler's input`).toContain(f);
      const isGet = route.method === 'GET';
      const pathFields = Object.keys(spec.path?.() ?? {});

      // The valid request is accepted (so mutations are judged against a request that would pass).
      before = await scanItems();
      const baseRequest: Request = isGet ? { query: spec.query?.(), path: spec.path?.() } : { body: json(spec.body?.() ?? {}) };
      const baseAnswer = await send(route, spec.as, baseRequest);
      expect(baseAnswer.status, `${key} valid request: ${JSON.stringify(baseAnswer.body)}`).toBeLessThan(500);
      await restore();
      before = await scanItems();

      const reals = [GROUP, OWNER, MANAGER, MEMBER, STRANGER];
      if (fields.length > 0) {
        const arb = fc.tuple(fc.constantFrom(...fields), fc.nat()).chain(([field, n]) => {
          const validValue = given[field];
          const valid = typeof validValue === 'string' ? validValue : Array.isArray(validValue) && typeof validValue[0] === 'string' ? validValue[0] : (reals[n % reals.length] as string);
          return fieldMutation(valid, [...new Set([valid, ...reals])], Array.isArray(validValue) || field === 'memberIds').map((m) => ({ field, m }));
        });
        await fc.assert(
          fc.asyncProperty(arb, async ({ field, m }) => {
            let request: Request;
            if (isGet) {
              // Parameters are strings: a JSON string mutation is its text, any other its raw JSON text.
              const asString = m.raw === undefined ? undefined : (() => {
                const parsed = JSON.parse(m.raw) as unknown;
                return typeof parsed === 'string' ? parsed : m.raw;
              })();
              const inPath = pathFields.includes(field);
              const entries = (o: Record<string, string> | undefined) => Object.entries(o ?? {}).filter(([k]) => k !== field);
              const q = entries(spec.query?.());
              const p = entries(spec.path?.());
              if (asString !== undefined) (inPath ? p : q).push([field, asString]);
              request = { query: objectFromEntries(q), path: objectFromEntries(p) };
            } else {
              const rest = Object.entries(spec.body?.() ?? {})
                .filter(([k]) => k !== field)
                .map(([k, v]) => `${json(k)}:${json(v)}`);
              if (m.raw !== undefined) rest.push(`${json(field)}:${m.raw}`);
              request = { body: `{${rest.join(',')}}` };
            }
            const answer = await send(route, spec.as, request);
            await judge(`${key} ${field} ${m[fc.toStringMethod]()}`, answer, [field, ...(spec.aliases?.[field] ?? [])]);
          }),
          { numRuns: FIELD_RUNS },
        );
      }

      // Whole inputs, from the route's caller or anyone else of the group (or a stranger).
      const callers = fc.constantFrom(spec.as, OWNER, MANAGER, MEMBER, STRANGER);
      if (isGet) {
        await fc.assert(
          fc.asyncProperty(wholeQuery(fields), callers, async (q, as) => {
            const path = spec.path?.();
            const answer = await send(route, as, { query: objectFromEntries(q.entries), ...(path ? { path } : {}) });
            await judge(`${key} as ${as} ${q[fc.toStringMethod]()}`, answer);
          }),
          { numRuns: WHOLE_RUNS },
        );
      } else {
        await fc.assert(
          fc.asyncProperty(wholeBody(spec.body ?? (() => ({})), fields), callers, async (w, as) => {
            const answer = await send(route, as, { body: w.body, base64: w.base64 === true });
            const label = `${key} as ${as} ${w[fc.toStringMethod]()}`;
            if (w.kind.startsWith('not ')) {
              // Not JSON, or not an object: always the stack's 400 naming the body.
              expect(answer.status, `${label} → ${JSON.stringify(answer.body)}`).toBe(400);
              expect(answer.body?.message, label).toMatch(/^body: /);
            }
            await judge(label, answer);
          }),
          { numRuns: WHOLE_RUNS },
        );
      }
      await restore();
    }, TIMEOUT_MS);
  }

  it('leaves Object.prototype and Array.prototype untouched', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeysBefore);
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayPrototypeKeysBefore);
    // Every route ran its properties: requests were sent, most of them rejected.
    expect(counts.requests).toBeGreaterThan(routes.length * WHOLE_RUNS);
    expect(counts.rejected).toBeGreaterThan(counts.accepted);
  });
});
