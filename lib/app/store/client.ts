import { config } from '../../config.ts';
import { createCommitter } from '../../store/commit.ts';
import { createDocumentClient } from '../../store/client.ts';

/**
 * The container's instances, one module per repository (`lib/app/store/<name>.ts` holds the one
 * instance of `lib/store/<name>.ts`'s repository): a Lambda bundles only the repositories its
 * handler's root imports, and every root in a process (lib/app.ts included) shares the same
 * instances, all over THIS one DynamoDB client, created at cold start.
 */

/** The one DynamoDB document client of the process (tests and benchmarks add middleware to it). */
export const client = createDocumentClient();

export const tableName = config.TABLE_NAME;

/** The one commit path (a transaction with its outbox events). */
export const commit = createCommitter(client, tableName);
