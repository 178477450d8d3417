import type { AddressInfo } from 'node:net';
import { createGateway, type GatewayOptions } from '#infra/local/gateway.ts';
import type { TokenClaims } from '#infra/local/tokens.ts';
import { createApiClient, type ApiClient } from './api.ts';
import { TEST_JWT_SECRET, testToken } from './tokens.ts';

/**
 * The local gateway in-process, on a free loopback port, serving the real handlers against this
 * run's DynamoDB Local (tests/setup-env.ts set the env before any handler is imported).
 *
 *   const gw = await startTestGateway();
 *   const alice = await gw.as('alice-1', { name: 'Alice' });
 *   const res = await alice.post('/group/create', { name: 'G', memberIds: ['bob-1'] });
 *   await gw.close();
 */

export interface TestGateway {
  baseUrl: string;
  /** A valid token for `userId` with the given profile claims. */
  token(userId: string, claims?: TokenClaims): Promise<string>;
  /** An API client sending `userId`'s token. */
  as(userId: string, claims?: TokenClaims): Promise<ApiClient>;
  /** An API client sending no token (or set `token` per request). */
  anonymous: ApiClient;
  close(): Promise<void>;
}

export const startTestGateway = async (options: Partial<GatewayOptions> = {}): Promise<TestGateway> => {
  const server = createGateway({ secret: TEST_JWT_SECRET, log: false, ...options });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    token: (userId, claims) => testToken(userId, claims),
    as: async (userId, claims) => createApiClient(baseUrl, await testToken(userId, claims)),
    anonymous: createApiClient(baseUrl),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
