import * as z from 'zod/mini';
import { coercedNumber } from '../zod.ts';

/**
 * Field schemas shared by every endpoint's input. Messages are short and the formatter prefixes
 * the field path, so a client reads `memberIds[1]: expected a non-empty user id`.
 */

const isAbsent = (input: unknown): boolean => input === undefined || input === null;

/** A UTF-16 surrogate without its pair: not encodable as UTF-8, so DynamoDB would refuse the write. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const isWellFormed = (text: string): boolean => !LONE_SURROGATE.test(text);
export const NOT_WELL_FORMED = 'expected well-formed Unicode text (a lone surrogate is not)';

/**
 * A string (`what` names it in the message) of well-formed Unicode: every text a client sends. A
 * missing value is "required", unless `absent` words it otherwise (list entries: "expected a string").
 */
export const anyString = (what = 'a string', absent = 'required') =>
  z.string({ error: (iss) => (isAbsent(iss.input) ? absent : `expected ${what}`) }).check(z.refine(isWellFormed, { error: NOT_WELL_FORMED }));

/** A required string that must not be empty (`''`, missing and `null` are all 400 naming the field). */
export const requiredString = (what = 'a non-empty string') => anyString(what).check(z.minLength(1, { error: `expected ${what}` }));

/**
 * A group id as sent by a client: any non-empty string. Whether it names a group that exists (or
 * could: the alphabet and length) is the domain's question, answered with 404, never 400.
 */
export const groupIdField = () => requiredString('a non-empty group id');

/** A user id: what the identity provider puts in `sub`, 1 to 64 characters. */
export const USER_ID_MAX = 64;
export const userIdField = () =>
  requiredString('a non-empty user id').check(z.maxLength(USER_ID_MAX, { error: `expected a user id of at most ${USER_ID_MAX} characters` }));

/**
 * The most ids one list may carry: a group never has more members (MAX_GROUP_MEMBERS is at most
 * 3000), so a longer list can never be valid, and refusing it early keeps a 10 MB body of ids from
 * being read into thousands of item lookups.
 */
export const MAX_LISTED_USER_IDS = 3000;

/** A non-empty list of at most `max` user ids; a `null` or empty entry is a 400 naming its index. */
export const userIdListField = (max = MAX_LISTED_USER_IDS) =>
  z
    .array(userIdField(), { error: (iss) => (isAbsent(iss.input) ? 'required' : 'expected an array of user ids') })
    .check(z.minLength(1, { error: 'expected at least one user id' }), z.maxLength(max, { error: `expected at most ${max} user ids` }));

/** Free text that may be empty (bulletins, display names); length rules live in the domain. */
export const textField = () => anyString();

/** A page size from the query string: 1 to 500. */
export const pageLimitField = () =>
  coercedNumber({ error: 'expected a number from 1 to 500' })
    .check(z.int({ error: 'expected a number from 1 to 500' }), z.gte(1, { error: 'expected a number from 1 to 500' }), z.lte(500, { error: 'expected a number from 1 to 500' }));

const CURSOR = /^[A-Za-z0-9_-]{1,400}$/;

/** An opaque paging cursor as this service hands it out (`nextCursor`). */
export const cursorField = () =>
  z
    .string({ error: 'expected a cursor from nextCursor' })
    .check(
      z.regex(CURSOR, { error: 'expected a cursor from nextCursor' }),
      z.refine((value) => decodeCursorOrNull(value) !== null, { error: 'expected a cursor from nextCursor' }),
    );

/** Cursors are base64url JSON `{"a": <the key to continue after>}`: opaque to clients, checked here. */
export const encodeCursor = (after: string): string => Buffer.from(JSON.stringify({ a: after })).toString('base64url');

const decodeCursorOrNull = (cursor: string): string | null => {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown };
    return typeof parsed.a === 'string' && parsed.a.length > 0 && parsed.a.length <= 64 ? parsed.a : null;
  } catch {
    return null;
  }
};

export const decodeCursor = (cursor: string): string => decodeCursorOrNull(cursor) ?? '';
