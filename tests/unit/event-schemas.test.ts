import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventTypes } from '#lib/events/index.ts';
import { eventJsonSchema, eventSchemaFiles } from '#lib/events/json-schema.ts';

const dir = new URL('../../docs/events/', import.meta.url);

describe('the published event schemas (docs/events)', () => {
  it('are exactly what `npm run schemas` generates from the zod schemas (run it after changing an event)', () => {
    const expected = eventSchemaFiles();
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).sort()).toEqual([...expected.keys()].sort());
    for (const [name, content] of expected) expect(readFileSync(new URL(name, dir), 'utf8'), name).toBe(content);
  });

  it('describe the envelope and a detail that requires the eventId', () => {
    for (const type of eventTypes) {
      const schema = eventJsonSchema(type) as { properties: { 'detail-type': { enum: string[] }; detail: { required: string[] } } };
      expect(schema.properties['detail-type'].enum).toEqual([type]);
      expect(schema.properties.detail.required).toContain('eventId');
      expect(schema.properties.detail.required).toContain('groupId');
    }
  });
});
