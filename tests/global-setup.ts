import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { ensureTable, localClient, startDynamoDbLocal, type DynamoDbLocal } from '#infra/local/dynamodb.ts';
import { ensureJava, JavaMissing } from '#infra/local/java.ts';

/**
 * Once per `vitest run`: one in-memory DynamoDB Local and one table with a unique name, handed to
 * every test file through `inject('dynamoEndpoint')` / `inject('tableName')` (see tests/setup-env.ts).
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of this run's DynamoDB Local; absent when no selected project needs it. */
    dynamoEndpoint: string;
    /** The table created for this run. */
    tableName: string;
  }
}

/** Projects whose tests talk to DynamoDB Local. */
const NEEDS_DYNAMODB = new Set(['integration', 'api']);

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let dynamo: DynamoDbLocal | undefined;

export const setup = async (project: TestProject): Promise<void> => {
  const selected = project.vitest.projects.map((p) => p.name);
  if (!selected.some((name) => NEEDS_DYNAMODB.has(name))) return;

  try {
    ensureJava('throw');
  } catch (error) {
    if (!(error instanceof JavaMissing)) throw error;
    // The Set-up contract: stop at once with one line saying how to install Java (no stack, no report).
    console.error(error.message);
    process.exit(1);
  }
  const started = Date.now();
  dynamo = await startDynamoDbLocal();
  const tableName = `sealtalk-test-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const client = localClient(dynamo.endpoint);
  try {
    await ensureTable(client, tableName);
  } finally {
    client.destroy();
  }
  if (process.env.TEST_LOG_LEVEL) console.log(`DynamoDB Local ready at ${dynamo.endpoint} in ${Date.now() - started} ms`);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('tableName', tableName);
};

export const teardown = async (): Promise<void> => {
  await dynamo?.stop();
  dynamo = undefined;
};
