import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, matchesPattern, validatePattern } from '#infra/local/event-pattern.ts';

const envelope = {
  version: '0',
  id: 'e1',
  'detail-type': 'GroupCreated',
  source: 'sealtalk.group',
  account: '000000000000',
  time: '2026-03-10T08:21:05Z',
  region: 'us-east-1',
  resources: [],
  detail: {
    groupId: 'g1',
    name: 'Friends',
    count: 3,
    ratio: 0.5,
    active: true,
    note: null,
    tags: ['red', 'blue'],
    members: [
      { id: 'alice', role: 'owner' },
      { id: 'bob', role: 'member' },
    ],
    nested: { deep: { value: 'x' } },
  },
};

const matches = (pattern: Record<string, unknown>, event: unknown = envelope): boolean => matchesPattern(pattern, event);

describe('literal matching', () => {
  it('matches exact strings, and any element of the pattern list', () => {
    expect(matches({ source: ['sealtalk.group'] })).toBe(true);
    expect(matches({ source: ['other', 'sealtalk.group'] })).toBe(true);
    expect(matches({ source: ['sealtalk'] })).toBe(false);
    expect(matches({ source: ['SEALTALK.GROUP'] })).toBe(false);
  });

  it('matches numbers numerically and never across types', () => {
    expect(matches({ detail: { count: [3] } })).toBe(true);
    expect(matches({ detail: { count: [3.0] } })).toBe(true);
    expect(matches({ detail: { count: ['3'] } })).toBe(false);
    expect(matches({ detail: { groupId: [1] } })).toBe(false);
  });

  it('matches booleans and null exactly; null does not match an absent field', () => {
    expect(matches({ detail: { active: [true] } })).toBe(true);
    expect(matches({ detail: { active: [false] } })).toBe(false);
    expect(matches({ detail: { active: ['true'] } })).toBe(false);
    expect(matches({ detail: { note: [null] } })).toBe(true);
    expect(matches({ detail: { missing: [null] } })).toBe(false);
  });

  it('requires every field (AND), across nesting levels', () => {
    expect(matches({ source: ['sealtalk.group'], 'detail-type': ['GroupCreated'], detail: { groupId: ['g1'] } })).toBe(true);
    expect(matches({ source: ['sealtalk.group'], 'detail-type': ['GroupRenamed'] })).toBe(false);
    expect(matches({ source: ['sealtalk.group'], detail: { groupId: ['g2'] } })).toBe(false);
    expect(matches({ detail: { nested: { deep: { value: ['x'] } } } })).toBe(true);
    expect(matches({ detail: { nested: { deep: { value: ['y'] } } } })).toBe(false);
  });

  it('does not match a leaf matcher against an object value', () => {
    expect(matches({ detail: ['g1'] })).toBe(false);
    expect(matches({ detail: { nested: [{ prefix: '' }] } })).toBe(false);
  });
});

describe('arrays in the event', () => {
  it('matches an array field if any element matches', () => {
    expect(matches({ detail: { tags: ['blue'] } })).toBe(true);
    expect(matches({ detail: { tags: ['green', 'red'] } })).toBe(true);
    expect(matches({ detail: { tags: ['green'] } })).toBe(false);
    expect(matches({ resources: ['arn:x'] })).toBe(false);
  });

  it('matches a nested pattern if one element of an array of objects matches it as a whole', () => {
    expect(matches({ detail: { members: { id: ['bob'] } } })).toBe(true);
    expect(matches({ detail: { members: { id: ['bob'], role: ['member'] } } })).toBe(true);
    // bob is not the owner: fields must hold within the same element.
    expect(matches({ detail: { members: { id: ['bob'], role: ['owner'] } } })).toBe(false);
  });

  it('applies anything-but element-wise (any element outside the list matches)', () => {
    expect(matches({ detail: { tags: [{ 'anything-but': 'red' }] } })).toBe(true);
    expect(matches({ detail: { tags: [{ 'anything-but': ['red', 'blue'] }] } })).toBe(false);
  });
});

describe('content filters', () => {
  it('prefix and suffix, case-sensitive or with equals-ignore-case', () => {
    expect(matches({ source: [{ prefix: 'sealtalk.' }] })).toBe(true);
    expect(matches({ source: [{ prefix: 'group' }] })).toBe(false);
    expect(matches({ source: [{ suffix: '.group' }] })).toBe(true);
    expect(matches({ source: [{ suffix: '.GROUP' }] })).toBe(false);
    expect(matches({ source: [{ prefix: { 'equals-ignore-case': 'SEALTALK.' } }] })).toBe(true);
    expect(matches({ source: [{ suffix: { 'equals-ignore-case': '.Group' } }] })).toBe(true);
    expect(matches({ detail: { count: [{ prefix: '3' }] } })).toBe(false);
  });

  it('equals-ignore-case', () => {
    expect(matches({ 'detail-type': [{ 'equals-ignore-case': 'groupcreated' }] })).toBe(true);
    expect(matches({ 'detail-type': [{ 'equals-ignore-case': 'groupcreate' }] })).toBe(false);
  });

  it('anything-but with a value, a list, prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(matches({ 'detail-type': [{ 'anything-but': 'GroupRenamed' }] })).toBe(true);
    expect(matches({ 'detail-type': [{ 'anything-but': 'GroupCreated' }] })).toBe(false);
    expect(matches({ 'detail-type': [{ 'anything-but': ['GroupRenamed', 'GroupCreated'] }] })).toBe(false);
    expect(matches({ detail: { count: [{ 'anything-but': 4 }] } })).toBe(true);
    expect(matches({ detail: { count: [{ 'anything-but': [1, 2, 3] }] } })).toBe(false);
    expect(matches({ source: [{ 'anything-but': { prefix: 'sealtalk.' } }] })).toBe(false);
    expect(matches({ source: [{ 'anything-but': { prefix: 'aws.' } }] })).toBe(true);
    expect(matches({ source: [{ 'anything-but': { suffix: '.user' } }] })).toBe(true);
    expect(matches({ source: [{ 'anything-but': { 'equals-ignore-case': ['SEALTALK.GROUP'] } }] })).toBe(false);
    expect(matches({ source: [{ 'anything-but': { wildcard: 'sealtalk.*' } }] })).toBe(false);
  });

  it('anything-but needs the field to be present', () => {
    expect(matches({ detail: { missing: [{ 'anything-but': 'x' }] } })).toBe(false);
  });

  it('numeric comparisons and ranges apply to numbers only', () => {
    expect(matches({ detail: { count: [{ numeric: ['>', 0, '<=', 5] }] } })).toBe(true);
    expect(matches({ detail: { count: [{ numeric: ['>', 3] }] } })).toBe(false);
    expect(matches({ detail: { count: [{ numeric: ['>=', 3] }] } })).toBe(true);
    expect(matches({ detail: { count: [{ numeric: ['=', 3] }] } })).toBe(true);
    expect(matches({ detail: { count: [{ numeric: ['<', 3] }] } })).toBe(false);
    expect(matches({ detail: { ratio: [{ numeric: ['>', 0, '<', 1] }] } })).toBe(true);
    expect(matches({ detail: { groupId: [{ numeric: ['>', 0] }] } })).toBe(false);
    expect(matches({ detail: { count: [{ numeric: ['>', 10] }, 3] } })).toBe(true);
  });

  it('wildcard, with escapes', () => {
    expect(matches({ source: [{ wildcard: 'sealtalk.*' }] })).toBe(true);
    expect(matches({ source: [{ wildcard: '*.gr*p' }] })).toBe(true);
    expect(matches({ source: [{ wildcard: 'sealtalk' }] })).toBe(false);
    expect(matches({ source: [{ wildcard: 'sealtalk?group' }] })).toBe(false);
    expect(matchesPattern({ k: [{ wildcard: 'a\\*b' }] }, { k: 'a*b' })).toBe(true);
    expect(matchesPattern({ k: [{ wildcard: 'a\\*b' }] }, { k: 'axb' })).toBe(false);
  });
});

describe('exists', () => {
  it('{exists: true} matches a present leaf (null included), not an absent field or an object', () => {
    expect(matches({ detail: { groupId: [{ exists: true }] } })).toBe(true);
    expect(matches({ detail: { note: [{ exists: true }] } })).toBe(true);
    expect(matches({ detail: { missing: [{ exists: true }] } })).toBe(false);
    expect(matches({ detail: { nested: [{ exists: true }] } })).toBe(false);
  });

  it('{exists: false} matches an absent field, even below an absent parent', () => {
    expect(matches({ detail: { missing: [{ exists: false }] } })).toBe(true);
    expect(matches({ detail: { groupId: [{ exists: false }] } })).toBe(false);
    expect(matches({ absent: { deeper: [{ exists: false }] } })).toBe(true);
    expect(matchesPattern({ tags: [{ exists: false }] }, { tags: [] })).toBe(true);
  });
});

describe('$or', () => {
  it('matches if any alternative matches, ANDed with the other fields at its level', () => {
    const pattern = { source: ['sealtalk.group'], $or: [{ 'detail-type': ['GroupRenamed'] }, { detail: { count: [{ numeric: ['>', 2] }] } }] };
    expect(matches(pattern)).toBe(true);
    expect(matches({ ...pattern, source: ['sealtalk.user'] })).toBe(false);
    expect(matches({ $or: [{ 'detail-type': ['GroupRenamed'] }, { detail: { count: [{ numeric: ['>', 5] }] } }] })).toBe(false);
  });

  it('works nested inside a field and inside another $or', () => {
    expect(matches({ detail: { $or: [{ groupId: ['g2'] }, { name: [{ prefix: 'Fri' }] }] } })).toBe(true);
    expect(matches({ detail: { $or: [{ groupId: ['g2'] }, { name: [{ prefix: 'Foe' }] }] } })).toBe(false);
    const deep = {
      $or: [
        { source: ['nope'] },
        { detail: { $or: [{ missing: [{ exists: true }] }, { nested: { deep: { value: ['x'] } } }] } },
      ],
    };
    expect(matches(deep)).toBe(true);
  });
});

describe('DynamoDB stream filter criteria', () => {
  const record = (eventName: string, kind: string) => ({
    eventID: '1',
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: { Keys: { pk: { S: 'OUTBOX#1' } }, NewImage: { pk: { S: 'OUTBOX#1' }, kind: { S: kind } }, StreamViewType: 'NEW_IMAGE' },
  });
  const filter = { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['event'] } } } };

  it('selects inserts of outbox events only', () => {
    expect(matchesPattern(filter, record('INSERT', 'event'))).toBe(true);
    expect(matchesPattern(filter, record('MODIFY', 'event'))).toBe(false);
    expect(matchesPattern(filter, record('INSERT', 'group'))).toBe(false);
    expect(matchesPattern(filter, { eventName: 'REMOVE', dynamodb: { Keys: { pk: { S: 'x' } } } })).toBe(false);
  });
});

describe('validation', () => {
  it.each([
    ['a non-object pattern', ['source']],
    ['an empty pattern', {}],
    ['a leaf that is not an array', { source: 'sealtalk.group' }],
    ['an empty leaf array', { source: [] }],
    ['an unknown matcher', { source: [{ regex: '.*' }] }],
    ['a matcher with two keys', { source: [{ prefix: 'a', suffix: 'b' }] }],
    ['a bad numeric operator', { n: [{ numeric: ['>>', 1] }] }],
    ['a numeric range with =', { n: [{ numeric: ['=', 1, '<', 2] }] }],
    ['a non-number numeric bound', { n: [{ numeric: ['>', '1'] }] }],
    ['a non-boolean exists', { n: [{ exists: 'yes' }] }],
    ['consecutive wildcards', { n: [{ wildcard: 'a**b' }] }],
    ['a $or with one alternative', { $or: [{ source: ['a'] }] }],
    ['a $or that is not a list', { $or: { source: ['a'] } }],
    ['an empty nested pattern', { detail: {} }],
    ['a leaf object matcher as a literal', { detail: { x: [{}] } }],
    ['an anything-but with an object list', { x: [{ 'anything-but': [{ prefix: 'a' }] }] }],
  ])('rejects %s', (_label, pattern) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => matchesPattern(pattern, envelope)).toThrow(/Event pattern is not valid/);
  });

  it('names the offending path', () => {
    expect(() => validatePattern({ detail: { members: { role: [{ bogus: 1 }] } } })).toThrow(/detail\.members\.role\[0\].*unknown matcher "bogus"/);
  });

  it('accepts every supported matcher', () => {
    expect(() =>
      validatePattern({
        source: ['a', 1, true, null, { prefix: 'a' }, { suffix: 'a' }, { 'equals-ignore-case': 'a' }, { wildcard: 'a*' }],
        detail: {
          a: [{ 'anything-but': 'x' }, { 'anything-but': [1, 2] }, { 'anything-but': { prefix: 'x' } }],
          b: [{ numeric: ['>', 0, '<=', 5] }, { exists: false }],
          $or: [{ c: ['1'] }, { d: ['2'] }],
        },
      }),
    ).not.toThrow();
  });
});
