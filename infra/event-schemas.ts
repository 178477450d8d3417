import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventSchemaFiles } from '#lib/events/json-schema.ts';

/** `npm run schemas`: writes docs/events/<Event>.json from the zod schemas (a test fails when stale). */
export const EVENT_SCHEMAS_DIR = fileURLToPath(new URL('../docs/events/', import.meta.url));

const files = eventSchemaFiles();
mkdirSync(EVENT_SCHEMAS_DIR, { recursive: true });
for (const stale of readdirSync(EVENT_SCHEMAS_DIR)) if (stale.endsWith('.json') && !files.has(stale)) rmSync(join(EVENT_SCHEMAS_DIR, stale));
for (const [name, content] of files) writeFileSync(join(EVENT_SCHEMAS_DIR, name), content);
process.stdout.write(`${files.size} event schemas written to docs/events/\n`);
