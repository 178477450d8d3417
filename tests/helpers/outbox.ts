import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { busEntryOf } from '#lib/events/outbox.ts';
import { keys } from '#lib/store/keys.ts';
import { partition } from './db.ts';

/**
 * A group's outbox events as the bus would deliver them (the relay's own conversion, then the
 * EventBridge envelope), and as the SQS records the notifier receives: for tests that drive the
 * notifier directly, with duplicates, reordering and faults of their choosing.
 */

export type Envelope = EventBridgeEvent<string, Record<string, unknown>>;

/**
 * The group's outbox events in key order: by decision time (`createdAt`), which is commit order for
 * changes that read each other's writes; two changes whose guards both held may commit the other way.
 */
export const outboxEnvelopes = async (groupId: string): Promise<Envelope[]> => {
  const items = await partition(keys.outbox(groupId, 0, 0, '').pk);
  return items.map((item) => {
    const entry = busEntryOf(item);
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: '000000000000',
      time: entry.Time.toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: JSON.parse(entry.Detail) as Record<string, unknown>,
    };
  });
};

export const sqsRecord = (envelope: Envelope, receiveCount = 1): SQSRecord => ({
  messageId: randomUUID(),
  receiptHandle: randomUUID(),
  body: JSON.stringify(envelope),
  attributes: {
    ApproximateReceiveCount: String(receiveCount),
    SentTimestamp: String(Date.now()),
    SenderId: 'test',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:notifier-queue',
  awsRegion: 'us-east-1',
});

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
