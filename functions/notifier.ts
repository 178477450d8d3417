import { SQSClient } from '@aws-sdk/client-sqs';
import { deliveries } from '#lib/app/store/deliveries.ts';
import { groupReads } from '#lib/app/store/group-reads.ts';
import { imMirror } from '#lib/app/store/im-mirror.ts';
import { members } from '#lib/app/store/members.ts';
import { users } from '#lib/app/store/users.ts';
import { createNotifierHandler, createTransport } from '#lib/im/app.ts';
import type { ImTransport } from '#lib/im/client.ts';
import { logger } from '#lib/log.ts';
import { withInvocation } from '#lib/metrics.ts';

/** Group events from the bus (through SQS) → RongCloud calls and IM messages. */
let transport: Promise<ImTransport> | undefined;

export const handler = withInvocation('notifier', createNotifierHandler({
  store: { groups: groupReads, members, users, deliveries, imMirror },
  sqs: new SQSClient({}),
  env: process.env,
  // Read once per container (the secret included); a failed read is retried by the next invocation.
  transport: () => {
    transport ??= createTransport(process.env, logger).catch((error: unknown) => {
      transport = undefined;
      throw error;
    });
    return transport;
  },
}));
