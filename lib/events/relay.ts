import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { Logger } from '../log.ts';
import { metrics } from '../metrics.ts';
import { busEntryOf } from './outbox.ts';

/**
 * The outbox relay: stream records of outbox inserts → PutEvents on the bus, in stream order.
 *
 * - Entries go in batches of at most 10 (PutEvents' limit) and 256 KB; entries PutEvents reports
 *   as failed (`FailedEntryCount`) are retried with backoff, the accepted ones are not resent.
 * - A record that still fails is reported with every record after it (`batchItemFailures`):
 *   Lambda retries the stream from the first of them, so order is kept and nothing is skipped;
 *   records after it that had been published are published again (consumers are idempotent per
 *   `eventId`). After the event source's retries, the batch goes to its on-failure destination.
 * - Nothing here runs inside a request: a publish failure never fails a committed change.
 */

export interface RelayDeps {
  client: EventBridgeClient;
  busName: string;
  log: Logger;
  /** PutEvents attempts per batch before the records are reported failed. @default 4 */
  attempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const entrySize = (e: PutEventsRequestEntry): number =>
  Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? '') + 14;

interface Pending {
  index: number;
  entry: PutEventsRequestEntry;
}

/** `DomainEvents` and `RelayLag` (now − the outbox item's `createdAt`, the entry's `Time`) per event that got in. */
const published = (entries: readonly Pending[]): void => {
  const at = Date.now();
  for (const { entry } of entries) {
    metrics.domainEvent(entry.DetailType ?? 'unknown');
    if (entry.Time instanceof Date) metrics.relayLag(at - entry.Time.getTime());
  }
};

/**
 * PutEvents with retries of the failed entries. Returns the indexes that never got in. Each entry
 * an attempt did not get in (refused by PutEvents, or the whole call failed) adds 1 to
 * `DomainEventsFailed`, per attempt: an entry refused twice, then accepted, counts 2 there and 1 in
 * `DomainEvents`.
 */
const publish = async (deps: RelayDeps, batch: Pending[]): Promise<number[]> => {
  const attempts = deps.attempts ?? 4;
  const sleep = deps.sleep ?? defaultSleep;
  let pending = batch;
  for (let attempt = 1; pending.length > 0; attempt++) {
    let failed: Pending[];
    try {
      const out = await deps.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
      failed = (out.FailedEntryCount ?? 0) === 0 ? [] : pending.filter((_, i) => out.Entries?.[i]?.ErrorCode !== undefined || !out.Entries?.[i]?.EventId);
      for (const [i, result] of (out.Entries ?? []).entries()) {
        if (result.ErrorCode) deps.log.warn('PutEvents entry failed', { attempt, errorCode: result.ErrorCode, errorMessage: result.ErrorMessage, index: pending[i]?.index });
      }
      published(pending.filter((p) => !failed.includes(p)));
    } catch (error) {
      deps.log.warn('PutEvents failed', { attempt, error });
      failed = pending;
    }
    for (const p of failed) metrics.domainEventFailed(p.entry.DetailType ?? 'unknown');
    pending = failed;
    if (pending.length === 0 || attempt >= attempts) break;
    await sleep(Math.min(2000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
  }
  return pending.map((p) => p.index);
};

export const relayRecords = async (deps: RelayDeps, records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> => {
  const failFrom = (index: number): DynamoDBBatchResponse => ({
    batchItemFailures: records.slice(index).map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' })),
  });

  let batch: Pending[] = [];
  let bytes = 0;
  const flush = async (): Promise<number | undefined> => {
    if (batch.length === 0) return undefined;
    const failed = await publish(deps, batch);
    batch = [];
    bytes = 0;
    return failed.length > 0 ? Math.min(...failed) : undefined;
  };

  for (const [index, record] of records.entries()) {
    let entry: PutEventsRequestEntry;
    try {
      const image = unmarshall((record.dynamodb?.NewImage ?? {}) as Record<string, AttributeValue>);
      entry = { ...busEntryOf(image), EventBusName: deps.busName };
    } catch (error) {
      // Written through the same schemas, so this is a bug: fail loudly, keep the order.
      deps.log.error('outbox record cannot be relayed', { sequenceNumber: record.dynamodb?.SequenceNumber, error });
      const failed = await flush();
      return failFrom(failed ?? index);
    }
    const size = entrySize(entry);
    if (batch.length === MAX_ENTRIES || bytes + size > MAX_BATCH_BYTES) {
      const failed = await flush();
      if (failed !== undefined) return failFrom(failed);
    }
    batch.push({ index, entry });
    bytes += size;
  }
  const failed = await flush();
  if (failed !== undefined) {
    deps.log.error('outbox records not relayed; the stream retries them', { from: records[failed]?.dynamodb?.SequenceNumber, count: records.length - failed });
    return failFrom(failed);
  }
  deps.log.info('outbox relayed', { count: records.length });
  return { batchItemFailures: [] };
};
