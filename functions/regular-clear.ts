import { SQSClient } from '@aws-sdk/client-sqs';
import { clearing } from '#lib/app/store/clearing.ts';
import { chunkQueueFromEnv, createPassHandler } from '#lib/im/regular-clear.ts';
import { withInvocation } from '#lib/metrics.ts';

/**
 * The hourly regular-clear pass (EventBridge Scheduler): finds the due groups on the schedule index,
 * claims each, splits its members into chunks and queues them for `regular-clear-worker`. Returns
 * what it did; throws when a group failed (the scheduler retries, then dead-letters the invocation).
 */
const sqs = new SQSClient({});

export const handler = withInvocation('regular-clear', createPassHandler({ clearing, queue: () => chunkQueueFromEnv(sqs, process.env) }));
