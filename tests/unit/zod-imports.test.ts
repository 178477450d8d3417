import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { preprocess } from '#lib/zod.ts';

/**
 * Bundled code validates with `zod/mini` (lib/zod.ts says why); the English locale it needs for
 * zod's default messages is loaded by lib/zod.ts, which every lib/ module using zod imports.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
/** Only the response contracts (infra/openapi.ts and tests read them; no function imports them) may use classic zod. */
const CLASSIC_ALLOWED = ['lib/http/contracts.ts'];

const imports = (file: string): string[] => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/^import (?!type )[^;]*?'([^']+)';$/gms)].map((m) => m[1] as string);

describe('zod in bundled code', () => {
  it('is zod/mini everywhere in lib/ and functions/ (classic zod only in the response contracts)', () => {
    for (const file of [...sources('lib'), ...sources('functions')]) {
      if (CLASSIC_ALLOWED.includes(file)) continue;
      expect(imports(file), file).not.toContain('zod');
    }
  });

  it('loads the English locale before any lib/ schema parses: every lib/ module importing zod/mini imports lib/zod.ts', () => {
    for (const file of sources('lib')) {
      const found = imports(file);
      if (!found.includes('zod/mini') || file === join('lib', 'zod.ts')) continue;
      const own = relative(join(ROOT, file, '..'), join(ROOT, 'lib', 'zod.ts')).split('\\').join('/');
      expect(found, file).toContain(own.startsWith('.') ? own : `./${own}`);
    }
  });

  it('gives default messages in English, as classic zod does', () => {
    const parsed = z.safeParse(z.object({ level: z.enum(['a', 'b']), n: z.number() }), { level: 'c' });
    expect(parsed.error?.issues.map((i) => i.message)).toEqual(['Invalid option: expected one of "a"|"b"', 'Invalid input: expected number, received undefined']);
  });

  it('preprocess runs its function on the raw input, then the schema', () => {
    const bit = preprocess((v) => (v === '1' ? 1 : v), z.literal(1));
    expect(z.parse(bit, '1')).toBe(1);
    expect(z.safeParse(bit, '2').success).toBe(false);
  });
});
