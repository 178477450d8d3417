import * as z from 'zod/mini';
import { lazySchema } from '../zod.ts';
import { busDetailSchema, EVENT_SOURCE, isEventType, type EventType } from './index.ts';

/**
 * The outbox as the relay reads it: items written by `lib/store/commit.ts` in the same transaction
 * as the change they describe, carried by the table's stream to EventBridge.
 */

/** `kind` of outbox items: the stream filter selects on it. */
export const OUTBOX_KIND = 'event';

/**
 * The event-source filter of the relay (Lambda filter-criteria syntax, which is EventBridge
 * pattern syntax applied to the stream record): only INSERTs of outbox items reach the relay. The
 * CDK stack and the local runtime's stream reader both use this one declaration.
 */
export const OUTBOX_STREAM_FILTER = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { kind: { S: [OUTBOX_KIND] } } },
} as const;

/** An outbox item as the relay reads it (made when first used: only the relay parses them). */
export const outboxItemSchema = lazySchema(() =>
  z.object({
    kind: z.literal(OUTBOX_KIND),
    eventId: z.string().check(z.minLength(1)),
    source: z.literal(EVENT_SOURCE),
    // A string, then one naming an event type (typed as one: mini's refine does not narrow, classic's did).
    detailType: z.pipe(z.string(), z.custom<EventType, string>((name) => isEventType(name), { error: 'unknown event type' })),
    detail: z.string(),
    createdAt: z.number().check(z.int(), z.nonnegative()),
    seq: z.number().check(z.int(), z.nonnegative()),
  }),
);

export type OutboxItem = z.infer<ReturnType<typeof outboxItemSchema>>;

/** A PutEvents entry (without the bus name) for one outbox item. */
export interface BusEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  Time: Date;
}

/**
 * The bus entry of an outbox item: the detail is validated against its event's schema again (the
 * relay never publishes what consumers would reject) and gets the `eventId`.
 */
export const busEntryOf = (raw: Record<string, unknown>): BusEntry => {
  const item = z.parse(outboxItemSchema(), raw);
  const detail = z.parse(busDetailSchema(item.detailType), { ...(JSON.parse(item.detail) as object), eventId: item.eventId });
  return { Source: item.source, DetailType: item.detailType, Detail: JSON.stringify(detail), Time: new Date(item.createdAt) };
};
