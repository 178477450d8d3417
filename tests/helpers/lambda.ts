import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { buildEvent, lambdaContext, loadHandler, matchRoute, toStructuredResult, type LambdaHandler } from '#infra/local/gateway.ts';
import { functionOf, routeKey, routes, type Route } from '#lib/routes.ts';

/**
 * Handler-level helpers for integration tests: the exact event the gateway (and API Gateway) builds,
 * without HTTP.
 *
 *   const res = await callRoute('POST', '/group/create', { as: 'alice-1', claims: { name: 'Alice' }, body: {...} });
 *   expect(res.status).toBe(200); expect(res.body).toEqual({ code: 200, result: ... });
 */

export interface EventOptions {
  /** The caller (`sub`). */
  as: string;
  /** Further JWT claims (`name`, `picture`, `phone_number`, `gender`, `st_account`, `group_verify`). */
  claims?: Record<string, string | number | boolean>;
  /** JSON-encoded unless already a string. */
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

/** The payload-2.0 event for `method path` (path with real values: `/group/abc/members`). */
export const httpEvent = (method: string, path: string, options: EventOptions): APIGatewayProxyEventV2WithJWTAuthorizer => {
  const [rawPath = path, queryFromPath = ''] = path.split('?', 2);
  const match = matchRoute(method, rawPath);
  if (!match) throw new Error(`no route for ${method} ${rawPath} in lib/routes.ts`);
  const rawQueryString = options.query ? new URLSearchParams(options.query).toString() : queryFromPath;
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  return buildEvent({
    route: match.route,
    rawPath,
    rawQueryString,
    headers: { host: 'localhost', 'user-agent': 'vitest', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    pathParameters: match.pathParameters,
    claims: { sub: options.as, iss: 'sealtalk-local', aud: 'sealtalk-group-service', ...options.claims },
    body,
  });
};

export interface HandlerResult<T = unknown> {
  status: number;
  headers: Record<string, string | number | boolean>;
  /** The parsed JSON body (`undefined` when empty). */
  body: T;
  raw: APIGatewayProxyStructuredResultV2;
}

/** Invokes `handler` with `event` and a fresh Lambda context; parses the JSON body. */
export const invoke = async <T = unknown>(
  handler: LambdaHandler,
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context = lambdaContext('test'),
): Promise<HandlerResult<T>> => {
  const raw = toStructuredResult(await handler(event, context));
  return {
    status: raw.statusCode ?? 200,
    headers: raw.headers ?? {},
    body: (raw.body === undefined || raw.body === '' ? undefined : JSON.parse(raw.body)) as T,
    raw,
  };
};

/** Routes `method path` like the gateway (route table → `functions/<file>.ts`) and invokes it. */
export const callRoute = async <T = unknown>(method: string, path: string, options: EventOptions): Promise<HandlerResult<T>> => {
  const event = httpEvent(method, path, options);
  const route = routes.find((r) => routeKey(r) === event.routeKey) as Route; // httpEvent matched it
  const name = functionOf(route);
  return invoke<T>(await loadHandler(name), event, lambdaContext(name));
};
