import type { EventBridgeEvent } from 'aws-lambda';
import { describeIssues } from '../validation.ts';
import { logger, type Logger } from '../log.ts';
import * as z from 'zod/mini';
import '../zod.ts';

/**
 * The wrapper of every function that consumes bus events: parses the detail with its zod schema
 * and fails loudly. A thrown error makes Lambda retry the asynchronous invocation and then hand the
 * event to the function's dead-letter queue (infra owns retries; see infra/stack.ts).
 */

export interface ConsumedEvent<T> {
  detail: T;
  id: string;
  /** Epoch ms of the event (`time` of the envelope). */
  time: number;
  log: Logger;
}

export const consumer =
  <S extends z.core.$ZodType>(schema: S, run: (event: ConsumedEvent<z.output<S>>) => Promise<void>) =>
  async (event: EventBridgeEvent<string, unknown>): Promise<void> => {
    const log = logger.child({ eventId: event.id, detailType: event['detail-type'], source: event.source });
    const parsed = z.safeParse(schema, event.detail);
    if (!parsed.success) {
      const reason = describeIssues(parsed.error);
      log.error('event rejected', { reason });
      throw new Error(`invalid ${event['detail-type']} event ${event.id}: ${reason}`);
    }
    const time = Date.parse(event.time);
    await run({ detail: parsed.data, id: event.id, time: Number.isNaN(time) ? Date.now() : time, log });
  };
