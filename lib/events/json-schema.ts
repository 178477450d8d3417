import * as z from 'zod/mini';
import '../zod.ts';
import { busDetailSchema, EVENT_SOURCE, eventTypes, type EventType } from './index.ts';

/**
 * The published event contract: one JSON Schema (draft-04, what the EventBridge schema registry
 * accepts) per event, describing the whole event as consumers receive it, generated from the zod
 * schemas. `npm run schemas` writes them to docs/events/; the CDK stack registers them.
 */

export const SCHEMA_REGISTRY_NAME = 'sealtalk.group';

export const eventJsonSchema = (type: EventType): Record<string, unknown> => {
  const { $schema, ...detail } = z.toJSONSchema(busDetailSchema(type), { target: 'draft-4' }) as Record<string, unknown>;
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
