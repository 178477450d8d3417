import { clearing } from '#lib/app/store/clearing.ts';
import { createTransport } from '#lib/im/app.ts';
import type { ImTransport } from '#lib/im/client.ts';
import { createWorkerHandler, workerRate } from '#lib/im/regular-clear.ts';
import { logger } from '#lib/log.ts';
import { withInvocation } from '#lib/metrics.ts';

/**
 * One queued chunk of a regular-clear run (SQS, one message at a time, two workers at most): one
 * RongCloud history call per member within `REGULAR_CLEAR_RATE`; the last chunk of a run commits
 * `GroupMessagesCleared` (the notifier then sends ST:MsgClear).
 */
let transport: Promise<ImTransport> | undefined;

export const handler = withInvocation('regular-clear-worker', createWorkerHandler({
  clearing,
  // Read once per container (the secret included); a failed read is retried by the next message.
  transport: () => {
    transport ??= createTransport(process.env, logger, workerRate(process.env)).catch((error: unknown) => {
      transport = undefined;
      throw error;
    });
    return transport;
  },
}));
