/**
 * Text rules shared by names, bulletins and display names. Like the reference, `<` and `>` are
 * HTML-escaped on the way in (legacy web clients render these fields as HTML) and lengths are
 * counted in Unicode code points after escaping.
 */

export const escapeHtml = (text: string): string => text.replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const codePointLength = (text: string): number => {
  let n = 0;
  for (const _ of text) n++;
  return n;
};

/**
 * Escapes `raw` and checks its length. Raw text over `max` is rejected; raw text that fits but
 * whose escaped form does not is cut to `max` (the reference's rule). Returns null when invalid.
 */
export const escapeWithin = (raw: string, min: number, max: number): string | null => {
  if (codePointLength(raw) > max) return null;
  let escaped = escapeHtml(raw);
  if (codePointLength(escaped) > max) escaped = Array.from(escaped).slice(0, max).join('');
  return codePointLength(escaped) < min ? null : escaped;
};

export const GROUP_NAME = { min: 2, max: 32 } as const;
