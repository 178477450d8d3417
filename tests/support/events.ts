import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { HttpEvent, HttpHandler } from '#lib/http/endpoint.ts';

/**
 * Builds the API Gateway (HTTP API, payload 2.0) event a Lambda receives behind the JWT
 * authorizer, and invokes handlers directly: integration tests run the real handlers on DynamoDB
 * Local without HTTP in between.
 */

export interface Call {
  method?: 'GET' | 'POST' | 'DELETE';
  routeKey?: string;
  /** Serialized as JSON unless it is already a string. */
  body?: unknown;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  /** JWT claims; `sub` is the caller. Omit for an event without an authorizer context. */
  claims?: Record<string, string> | null;
}

export const httpEvent = (call: Call): HttpEvent => {
  const method = call.method ?? 'POST';
  const body = call.body === undefined ? undefined : typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
  return {
    version: '2.0',
    routeKey: call.routeKey ?? `${method} /test`,
    rawPath: '/test',
    rawQueryString: new URLSearchParams(call.query ?? {}).toString(),
    headers: { 'content-type': 'application/json' },
    queryStringParameters: call.query,
    pathParameters: call.pathParameters,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: '/test', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey: call.routeKey ?? `${method} /test`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
      authorizer: call.claims === null ? (undefined as never) : { principalId: '', integrationLatency: 0, jwt: { claims: call.claims ?? {}, scopes: [] } },
    },
  } as HttpEvent;
};

export const lambdaContext = (): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: 'test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

export interface Reply {
  status: number;
  headers: Record<string, string | number | boolean>;
  body: { code?: number; result?: unknown; message?: string; requestId?: string } & Record<string, unknown>;
}

export const invoke = async (handler: HttpHandler, call: Call): Promise<Reply> => {
  const out = await handler(httpEvent(call), lambdaContext());
  return {
    status: out.statusCode ?? 200,
    headers: (out.headers ?? {}) as Reply['headers'],
    body: JSON.parse(typeof out.body === 'string' ? out.body : '{}') as Reply['body'],
  };
};
