import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startLocalBus, type LocalBus, type LocalBusOptions } from '#infra/local/bus.ts';

/**
 * The local bus in unit tests: buses on temporary data directories and SDK clients pointed at
 * them, all stopped and destroyed after each test.
 *
 *   const { start, sqsClient, eventBridge, tempDir } = localBusHarness('local-bus-');
 */
export const localBusHarness = (prefix: string) => {
  const started: LocalBus[] = [];
  const clients: { destroy(): void }[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await Promise.all(started.splice(0).map((bus) => bus.stop(50)));
  });

  const tempDir = (): string => mkdtempSync(join(tmpdir(), prefix));

  /** A bus with no rules unless `options` names them, on a fresh data directory unless it names one. */
  const start = async (options: Partial<LocalBusOptions>): Promise<LocalBus> => {
    const bus = await startLocalBus({ dataDir: tempDir(), rules: [], ...options });
    started.push(bus);
    return bus;
  };

  const clientConfig = (bus: LocalBus) => ({
    endpoint: bus.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  const track = <C extends { destroy(): void }>(client: C): C => {
    clients.push(client);
    return client;
  };

  return {
    tempDir,
    start,
    sqsClient: (bus: LocalBus): SQSClient => track(new SQSClient(clientConfig(bus))),
    eventBridge: (bus: LocalBus): EventBridgeClient => track(new EventBridgeClient(clientConfig(bus))),
  };
};

/** The records of a JSON-lines file (dead letters, pending messages); none when it does not exist. */
export const readJsonl = (path: string): Record<string, unknown>[] =>
  existsSync(path)
    ? readFileSync(path, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    : [];
