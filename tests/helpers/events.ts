import { randomUUID } from 'node:crypto';
import { lambdaContext } from '#infra/local/gateway.ts';
import type { HttpEvent, HttpHandler } from '#lib/http/endpoint.ts';

/**
 * Unit-test invocation of handlers that are not in the route table (built ad hoc from the HTTP
 * stack): a payload-2.0 event with arbitrary claims, or none at all. Route-table handlers are
 * called through `#tests/helpers/lambda.ts` `callRoute`, which builds the gateway's exact event.
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

export interface Reply {
  status: number;
  headers: Record<string, string | number | boolean>;
  body: { code?: number; result?: unknown; message?: string; requestId?: string } & Record<string, unknown>;
}

export const invoke = async (handler: HttpHandler, call: Call): Promise<Reply> => {
  const out = await handler(httpEvent(call), lambdaContext('test'));
  return {
    status: out.statusCode ?? 200,
    headers: (out.headers ?? {}) as Reply['headers'],
    body: JSON.parse(typeof out.body === 'string' ? out.body : '{}') as Reply['body'],
  };
};
