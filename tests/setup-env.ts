import { inject } from 'vitest';
import { isLocalEndpoint } from '#infra/local/dynamodb.ts';

/**
 * Runs in every test worker before any test file is imported, so handlers (which read their config
 * at import time) see this run's DynamoDB Local. Tests never run against anything but localhost.
 */

const endpoint = inject('dynamoEndpoint') as string | undefined;
const tableName = inject('tableName') as string | undefined;

if (endpoint !== undefined && !isLocalEndpoint(endpoint)) {
  throw new Error(`refusing to run tests against ${endpoint}: only 127.0.0.1/localhost endpoints are allowed`);
}

// No DynamoDB for this run (unit/infra only): point at a closed loopback port, never at AWS.
process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint ?? 'http://127.0.0.1:9';
process.env.TABLE_NAME = tableName ?? 'sealtalk-test-no-dynamodb';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;
delete process.env.AWS_ENDPOINT_URL;
process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
// EMF metric lines (lib/metrics.ts) ignore LOG_LEVEL; tests that check them turn them on themselves.
process.env.METRICS = 'off';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
