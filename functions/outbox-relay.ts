import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { parseEnv } from '#lib/config.ts';
import { relayRecords } from '#lib/events/relay.ts';
import { logger } from '#lib/log.ts';
import { withInvocation } from '#lib/metrics.ts';

/** The table's stream (outbox inserts only, by the event source's filter) → the EventBridge bus. */
const { EVENT_BUS_NAME } = parseEnv(z.object({ EVENT_BUS_NAME: z.string().check(z.minLength(1)) }), process.env);
const client = new EventBridgeClient({ maxAttempts: 3 });
const log = logger.child({ function: 'outbox-relay' });

export const handler = withInvocation('outbox-relay', (event: DynamoDBStreamEvent, _context?: Context): Promise<DynamoDBBatchResponse> =>
  relayRecords({ client, busName: EVENT_BUS_NAME, log }, event.Records));
