import * as z from 'zod/mini';
import '../zod.ts';
import { COMMON_DESCRIPTIONS, EVENT_ID_DESCRIPTION, FIELD_DESCRIPTIONS } from './descriptions.ts';
import { EVENT_SOURCE, eventSchema, eventTypes, type EventType } from './index.ts';

/**
 * The published event contract: one JSON Schema (draft-04, what the EventBridge schema registry
 * accepts) per event, describing the whole event as consumers receive it, generated from the zod
 * schemas. `npm run schemas` writes them to docs/events/; the CDK stack registers them.
 */

export const SCHEMA_REGISTRY_NAME = 'sealtalk.group';

/** Classic zod's `.describe()`: a copy of `schema` carrying `text` (the JSON Schema's `description`). */
const described = <T extends z.core.$ZodType>(schema: T, text: string | undefined): T => {
  if (text === undefined) return schema;
  const copy = z.clone(schema);
  z.globalRegistry.add(copy, { description: text });
  return copy;
};

/** The bus detail of `type` (`busDetailSchema`), each field with its description (lib/events/descriptions.ts). */
const describedBusDetail = (type: EventType) => {
  const fields: Record<string, string | undefined> = { ...COMMON_DESCRIPTIONS, ...FIELD_DESCRIPTIONS[type] };
  const shape = Object.fromEntries(Object.entries(eventSchema(type).shape).map(([key, schema]) => [key, described(schema, fields[key])]));
  return z.extend(z.object(shape), { eventId: described(z.string().check(z.minLength(1)), EVENT_ID_DESCRIPTION) });
};

export const eventJsonSchema = (type: EventType): Record<string, unknown> => {
  const { $schema, ...detail } = z.toJSONSchema(describedBusDetail(type), { target: 'draft-4' }) as Record<string, unknown>;
  return {
    $schema,
    title: type,
    description: `${type} from ${EVENT_SOURCE}: the EventBridge event (the envelope) and its detail.`,
    type: 'object',
    properties: {
      version: { type: 'string' },
      id: { type: 'string' },
      'detail-type': { type: 'string', enum: [type] },
      source: { type: 'string', enum: [EVENT_SOURCE] },
      account: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      region: { type: 'string' },
      resources: { type: 'array', items: { type: 'string' } },
      detail,
    },
    required: ['detail-type', 'source', 'detail'],
  };
};

/** File name → content of every schema under docs/events/ (stable formatting, trailing newline). */
export const eventSchemaFiles = (): Map<string, string> =>
  new Map(eventTypes.map((type) => [`${type}.json`, `${JSON.stringify(eventJsonSchema(type), null, 2)}\n`]));
