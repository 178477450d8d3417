import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { requiredString, textField, userIdListField } from '#lib/http/fields.ts';

/** Text a client sends must be well-formed Unicode: DynamoDB (UTF-8) cannot store a lone surrogate. */
describe('text fields', () => {
  const input = z.object({ name: requiredString('a group name'), note: textField(), memberIds: userIdListField() });
  const issues = (value: unknown) => {
    const parsed = input.safeParse(value);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuse a lone surrogate anywhere, naming the field', () => {
    expect(issues({ name: 'a\uD800b', note: 'ok', memberIds: ['u1'] })).toEqual(['name: expected well-formed Unicode text (a lone surrogate is not)']);
    expect(issues({ name: 'n', note: '\uDC00', memberIds: ['u1'] })).toEqual(['note: expected well-formed Unicode text (a lone surrogate is not)']);
    expect(issues({ name: 'n', note: '', memberIds: ['u1', 'x\uDBFF'] })).toEqual(['memberIds.1: expected well-formed Unicode text (a lone surrogate is not)']);
  });

  it('accept surrogate pairs (emoji), RTL, zero-width and combining characters', () => {
    expect(issues({ name: '😀 حديقة \u200B e\u0301', note: '👨‍👩‍👧', memberIds: ['\u202Eu1'] })).toEqual([]);
  });
});
