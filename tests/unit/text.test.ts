import { describe, expect, it } from 'vitest';
import { codePointLength, escapeHtml, escapeWithin } from '#lib/domain/text.ts';
import { isPossibleGroupId, newGroupId, GROUP_ID_LENGTH } from '#lib/domain/ids.ts';

describe('text rules', () => {
  it('escapes < and > only, like the reference filter', () => {
    expect(escapeHtml('<a>hello</a> & "x"')).toBe('&lt;a&gt;hello&lt;/a&gt; & "x"');
  });

  it('counts code points, so one emoji is one character', () => {
    expect(codePointLength('😀')).toBe(1);
    expect(codePointLength('群组😀')).toBe(3);
  });

  it('gives back the PEER fixture for "<a>hello</a>"', () => {
    expect(escapeWithin('<a>hello</a>', 2, 32)).toBe('&lt;a&gt;hello&lt;/a&gt;');
  });

  it('cuts escaped text that outgrew the limit when the raw text fit', () => {
    expect(escapeWithin('<script>alert(1)</script>', 2, 32)).toBe('&lt;script&gt;alert(1)&lt;/scrip');
  });

  it('rejects raw text over the limit and text under the minimum', () => {
    expect(escapeWithin('a'.repeat(33), 2, 32)).toBeNull();
    expect(escapeWithin('a', 2, 32)).toBeNull();
    expect(escapeWithin('😀', 2, 32)).toBeNull();
    expect(escapeWithin('a'.repeat(32), 2, 32)).toBe('a'.repeat(32));
  });
});

describe('group ids', () => {
  it('are random strings over RongCloud\'s alphabet, different every time', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newGroupId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9A-Za-z]+$/);
      expect(id).toHaveLength(GROUP_ID_LENGTH);
    }
  });

  it('tells strings that cannot be group ids', () => {
    expect(isPossibleGroupId('abcXYZ123')).toBe(true);
    expect(isPossibleGroupId('a'.repeat(65))).toBe(false);
    expect(isPossibleGroupId('bad id')).toBe(false);
    expect(isPossibleGroupId('../x')).toBe(false);
    expect(isPossibleGroupId('')).toBe(false);
  });
});
