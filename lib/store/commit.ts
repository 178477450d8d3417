import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { EVENT_SOURCE, streamKeyOf, type DomainEvent } from '../events/index.ts';
import { OUTBOX_KIND } from '../events/outbox.ts';
import { keys } from './keys.ts';

/**
 * The one commit path for every state change: the writes and the domain events that describe them
 * go into ONE TransactWriteItems, the events as outbox items. A committed change is never without
 * its events, and a failed change publishes none. The relay (`functions/outbox-relay.ts`) carries
 * the outbox items from the table's stream to EventBridge.
 */

export type Write = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export const MAX_TRANSACTION_ITEMS = 100;
/**
 * How long an outbox item stays (seconds): longer than the relay's stream retries (24 h), so an
 * operator can still re-publish what ended in the relay's failure queue (README, "Operating").
 */
const OUTBOX_RETENTION_S = 7 * 24 * 3600;

/** Why one item of a cancelled transaction failed, by the position of the write in `writes`. */
export interface CancellationReason {
  code: string;
  /** The item as it was, when the write asked for `ReturnValuesOnConditionCheckFailure: ALL_OLD`. */
  item?: Record<string, unknown>;
}

/** A transaction was cancelled; `reasons[i]` belongs to `writes[i]` (`code` 'None' for the others). */
export class CommitCancelled extends Error {
  constructor(readonly reasons: CancellationReason[]) {
    super(`transaction cancelled: ${reasons.map((r) => r.code).join(',')}`);
    this.name = 'CommitCancelled';
  }

  /** Index of the first write whose condition failed, or -1. */
  firstFailed(): number {
    return this.reasons.findIndex((r) => r.code === 'ConditionalCheckFailed');
  }

  /** Cancelled only because concurrent transactions kept winning (no condition failed): worth trying again. */
  onlyConflicts(): boolean {
    return this.firstFailed() === -1 && this.reasons.some((r) => r.code === 'TransactionConflict');
  }
}

export interface Change {
  writes: Write[];
  events?: DomainEvent[];
  /** Idempotency token for retries of the same transaction (at most 36 characters). */
  token?: string;
}

export const outboxWrite = (tableName: string, event: DomainEvent, now: number, seq = 0): Write => {
  const eventId = randomUUID();
  return {
    Put: {
      TableName: tableName,
      Item: {
        ...keys.outbox(streamKeyOf(event), now, seq, eventId),
        kind: OUTBOX_KIND,
        eventId,
        source: EVENT_SOURCE,
        detailType: event.type,
        detail: JSON.stringify(event.detail),
        createdAt: now,
        /** Order of the event within its transaction (events of one change share `createdAt`). */
        seq,
        expiresAt: Math.floor(now / 1000) + OUTBOX_RETENTION_S,
      },
    },
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const createCommitter = (client: DynamoDBDocumentClient, tableName: string) => {
  /**
   * Commits the change atomically. Throws `CommitCancelled` when a condition failed (the caller maps
   * it to a domain error). AWS can cancel a transaction for a conflicting concurrent one
   * (`TransactionConflict`); those are retried with jittered backoff.
   */
  const commit = async (change: Change, now = Date.now()): Promise<void> => {
    const items = [...change.writes, ...(change.events ?? []).map((e, i) => outboxWrite(tableName, e, now, i))];
    if (items.length === 0) return;
    if (items.length > MAX_TRANSACTION_ITEMS) {
      throw new Error(`a change of ${items.length} items exceeds one transaction; write it in chunks`);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: items,
            ...(change.token ? { ClientRequestToken: change.token } : {}),
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons: CancellationReason[] = (error.CancellationReasons ?? []).map((r) => ({
          code: r.Code ?? 'None',
          ...(r.Item ? { item: unmarshall(r.Item) } : {}),
        }));
        const conflict = reasons.some((r) => r.code === 'TransactionConflict');
        const failedCondition = reasons.some((r) => r.code === 'ConditionalCheckFailed');
        if (conflict && !failedCondition && attempt < 5) {
          await sleep(20 * 2 ** attempt + Math.random() * 20);
          continue;
        }
        throw new CommitCancelled(reasons);
      }
    }
  };
  return commit;
};

export type Commit = ReturnType<typeof createCommitter>;
