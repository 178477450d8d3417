import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from '#lib/im/app.ts';
import { createLogger } from '#lib/log.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';

/**
 * The notifier's transport as configured in AWS: the app secret read from Secrets Manager (here a
 * loopback stand-in for its API, answering GetSecretValue), then every call signed with it — which
 * the fake RongCloud verifies.
 */

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rongcloud-AbCdEf';
let fake: FakeRongCloud;
let secrets: Server;
let secretsUrl: string;
let secretValue: string;
const requests: { target: string | undefined; body: Record<string, unknown> }[] = [];

const read = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => resolve(text));
  });

beforeAll(async () => {
  fake = await startFakeRongCloud();
  secrets = createServer(async (req, res) => {
    const body = JSON.parse(await read(req)) as Record<string, unknown>;
    requests.push({ target: req.headers['x-amz-target'] as string | undefined, body });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ ARN: SECRET_ARN, Name: 'rongcloud', SecretString: secretValue }));
  });
  await new Promise<void>((resolve) => secrets.listen(0, '127.0.0.1', resolve));
  secretsUrl = `http://127.0.0.1:${(secrets.address() as AddressInfo).port}`;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsUrl;
});
afterAll(async () => {
  await fake?.close();
  await new Promise<void>((resolve) => secrets?.close(() => resolve()));
});

const env = () => ({ RONGCLOUD_APP_KEY: fake.appKey, RONGCLOUD_APP_SECRET_ARN: SECRET_ARN, RONGCLOUD_API_URL: fake.url });
const log = createLogger({ test: 'notifier-transport' });

describe('the notifier transport', () => {
  it('reads the app secret from Secrets Manager and signs with it', async () => {
    secretValue = fake.appSecret;
    const transport = await createTransport(env(), log);
    await transport.call('/group/refresh.json', { groupId: 'g1', groupName: 'Name' });
    expect(requests.at(-1)).toEqual({ target: 'secretsmanager.GetSecretValue', body: { SecretId: SECRET_ARN } });
    expect(fake.calls.map((c) => c.path)).toContain('/group/refresh.json');
  });

  it('accepts the secret as JSON {"appSecret": ...}', async () => {
    secretValue = JSON.stringify({ appSecret: fake.appSecret });
    const transport = await createTransport(env(), log);
    const before = fake.calls.length;
    await transport.call('/group/refresh.json', { groupId: 'g2', groupName: 'Name' });
    expect(fake.calls.length).toBe(before + 1);
  });

  it('fails loudly when the secret is still empty, naming it', async () => {
    secretValue = '';
    await expect(createTransport(env(), log)).rejects.toThrow(/has no value/);
  });

  it('logs instead of sending without an app key, and reads no secret', async () => {
    const count = requests.length;
    const transport = await createTransport({ RONGCLOUD_APP_SECRET_ARN: SECRET_ARN }, log);
    expect(await transport.call('/group/refresh.json', { groupId: 'g3' })).toEqual({ code: 200 });
    expect(requests.length).toBe(count);
  });
});
