import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import '../zod.ts';
import { keys } from './keys.ts';

/**
 * The consumers' idempotency ledger: one item per (event, consumer) recording which steps of the
 * event's work are done. A redelivered event skips the steps already done; a delivery running
 * concurrently elsewhere holds a lease, and the duplicate backs off (`DeliveryBusy`, retried by the
 * queue) instead of doing the same calls at the same time.
 *
 * A container that dies between a RongCloud call and the ledger write repeats that one call after
 * the lease expires: the only window for a duplicate, and one call wide.
 */

/** Ledger items outlive every redelivery: the queue keeps a message 4 days, EventBridge retries 24 h. */
const LEDGER_RETENTION_S = 7 * 24 * 3600;

export class DeliveryBusy extends Error {
  constructor(eventId: string) {
    super(`event ${eventId} is being delivered by another invocation`);
    this.name = 'DeliveryBusy';
  }
}

const ledgerItem = z.object({
  status: z.enum(['open', 'done']),
  steps: z.optional(z.set(z.string())),
  owner: z.optional(z.string()),
});

export interface Delivery {
  /** True when every step of this event was already done: nothing to do. */
  readonly done: boolean;
  /** Whether `step` was done by an earlier delivery. */
  hasDone(step: string): boolean;
  /** Records `step` as done (right after its call succeeded). */
  markDone(step: string): Promise<void>;
  /** Records the whole event as done and releases the lease. */
  finish(): Promise<void>;
  /** Gives the lease up after a failure, so a redelivery may go on at once. */
  release(): Promise<void>;
}

export interface DeliveryLedger {
  /** Takes the lease on (eventId, consumer) for `leaseMs`. Throws `DeliveryBusy` if another holds it. */
  begin(eventId: string, consumer: string, leaseMs: number): Promise<Delivery>;
}

export const createDeliveryLedger = (client: DynamoDBDocumentClient, tableName: string, now: () => number = Date.now): DeliveryLedger => ({
  async begin(eventId, consumer, leaseMs) {
    const key = keys.delivery(eventId, consumer);
    const owner = randomUUID();
    const at = now();
    let steps: Set<string>;
    try {
      const out = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET #status = if_not_exists(#status, :open), #owner = :owner, leaseUntil = :until, expiresAt = :expires, kind = :kind',
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :open AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':open': 'open',
            ':owner': owner,
            ':until': at + leaseMs,
            ':now': at,
            ':expires': Math.floor(at / 1000) + LEDGER_RETENTION_S,
            ':kind': 'delivery',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      steps = z.parse(ledgerItem, out.Attributes ?? {}).steps ?? new Set();
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await client.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
      if (current.Item && z.parse(ledgerItem, current.Item).status === 'done') {
        const nothing = async () => undefined;
        return { done: true, hasDone: () => true, markDone: nothing, finish: nothing, release: nothing };
      }
      throw new DeliveryBusy(eventId);
    }

    const ownLease = {
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
    };
    return {
      done: false,
      hasDone: (step) => steps.has(step),
      async markDone(step) {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'ADD steps :step',
            ...ownLease,
            ExpressionAttributeValues: { ':step': new Set([step]), ':owner': owner },
          }),
        );
        steps.add(step);
      },
      async finish() {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET #status = :done, doneAt = :now REMOVE leaseUntil',
            ...ownLease,
            ExpressionAttributeNames: { ...ownLease.ExpressionAttributeNames, '#status': 'status' },
            ExpressionAttributeValues: { ':done': 'done', ':now': now(), ':owner': owner },
          }),
        );
      },
      async release() {
        try {
          await client.send(
            new UpdateCommand({
              TableName: tableName,
              Key: key,
              UpdateExpression: 'SET leaseUntil = :zero',
              ...ownLease,
              ExpressionAttributeValues: { ':zero': 0, ':owner': owner },
            }),
          );
        } catch (error) {
          // Someone else took over after our lease ran out: theirs now.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      },
    };
  },
});
