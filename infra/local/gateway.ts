import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { functionOf, routeKey, routes, type Route } from '#lib/routes.ts';
import { verifyToken } from './tokens.ts';

/**
 * API Gateway (HTTP API) emulation for `npm start` and the API tests: the same route table, the same
 * JWT checks, the same payload-format-2.0 event, the same handlers, the same answers for unknown
 * routes, bad tokens, oversized bodies and crashing handlers.
 */

// --- routing -------------------------------------------------------------------------------------

type Segment = { literal: string } | { param: string };

interface CompiledRoute {
  route: Route;
  segments: Segment[];
}

export interface RouteMatch {
  route: Route;
  /** URL-decoded path parameters; `{}` when the route has none. */
  pathParameters: Record<string, string>;
}

const compile = (route: Route): CompiledRoute => ({
  route,
  segments: route.path.split('/').map((part) => {
    const param = /^\{([^}]+)\}$/.exec(part);
    return param ? { param: param[1] as string } : { literal: part };
  }),
});

const decode = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** Per-segment specificity: literal segments beat `{param}` segments, left to right. */
const moreSpecific = (a: CompiledRoute, b: CompiledRoute): number => {
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const aLiteral = 'literal' in (a.segments[i] as Segment);
    const bLiteral = 'literal' in (b.segments[i] as Segment);
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  return 0;
};

/**
 * The route API Gateway would pick for `method` and `rawPath` (no query string), or `undefined`
 * (HTTP API answers both "no such path" and "no such method on this path" with 404).
 */
export const createRouter = (table: readonly Route[] = routes): ((method: string, rawPath: string) => RouteMatch | undefined) => {
  const compiled = table.map(compile);
  return (method, rawPath) => {
    const parts = rawPath.split('/').map(decode);
    const candidates: { compiled: CompiledRoute; pathParameters: Record<string, string> }[] = [];
    for (const c of compiled) {
      if (c.route.method !== method.toUpperCase() || c.segments.length !== parts.length) continue;
      const pathParameters: Record<string, string> = {};
      const matches = c.segments.every((segment, i) => {
        const part = parts[i] as string;
        if ('literal' in segment) return segment.literal === part;
        if (part === '') return false;
        pathParameters[segment.param] = part;
        return true;
      });
      if (matches) candidates.push({ compiled: c, pathParameters });
    }
    candidates.sort((a, b) => moreSpecific(a.compiled, b.compiled));
    const best = candidates[0];
    return best && { route: best.compiled.route, pathParameters: best.pathParameters };
  };
};

export const matchRoute = createRouter();

// --- the event -----------------------------------------------------------------------------------

/** Claims as API Gateway's JWT authorizer passes them: every value a string. */
export const claimsAsStrings = (claims: Record<string, unknown>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = `[${value.map(String).join(' ')}]`;
    else if (typeof value === 'object') out[name] = JSON.stringify(value);
    else out[name] = String(value);
  }
  return out;
};

/** `10/Mar/2026:08:21:00 +0000`, API Gateway's `requestContext.time` format. */
const apiGatewayTime = (date: Date): string => {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(
    date.getUTCMinutes(),
  )}:${pad(date.getUTCSeconds())} +0000`;
};

/** API Gateway-style request id (`JKJaXmPLvHcESHA=`). */
export const newRequestId = (): string => randomBytes(10).toString('base64');

export interface EventInput {
  route: Pick<Route, 'method' | 'path'>;
  /** The request path as sent (not decoded), without the query string. */
  rawPath: string;
  rawQueryString?: string;
  /** Header names in any case; repeated headers as arrays. */
  headers?: Record<string, string | string[] | undefined>;
  /** Already URL-decoded. */
  pathParameters?: Record<string, string>;
  /** The verified token's claims (any JSON values; they are passed on as strings). */
  claims: Record<string, unknown>;
  body?: string;
  sourceIp?: string;
  protocol?: string;
  requestId?: string;
  now?: Date;
}

/** Builds the payload-format-2.0 event API Gateway's HTTP API hands a Lambda behind a JWT authorizer. */
export const buildEvent = (input: EventInput): APIGatewayProxyEventV2WithJWTAuthorizer => {
  const now = input.now ?? new Date();
  const key = routeKey(input.route);
  const rawQueryString = input.rawQueryString ?? '';

  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const values = Array.isArray(value) ? value : [value];
    if (lower === 'cookie') {
      cookies = [...(cookies ?? []), ...values.flatMap((v) => v.split(/;\s*/)).filter(Boolean)];
      continue;
    }
    headers[lower] = headers[lower] === undefined ? values.join(',') : `${headers[lower]},${values.join(',')}`;
  }

  let queryStringParameters: Record<string, string> | undefined;
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    queryStringParameters ??= {};
    queryStringParameters[name] = queryStringParameters[name] === undefined ? value : `${queryStringParameters[name]},${value}`;
  }

  const pathParameters = input.pathParameters && Object.keys(input.pathParameters).length > 0 ? { ...input.pathParameters } : undefined;
  const requestId = input.requestId ?? newRequestId();
  const domainName = headers.host ?? 'localhost';

  const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
    version: '2.0',
    routeKey: key,
    rawPath: input.rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: claimsAsStrings(input.claims), scopes: null } },
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: input.route.method,
        path: input.rawPath,
        protocol: input.protocol ?? 'HTTP/1.1',
        sourceIp: input.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: key,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies) event.cookies = cookies;
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (pathParameters) event.pathParameters = pathParameters;
  if (input.body !== undefined && input.body !== '') event.body = input.body;
  return event;
};

/**
 * A Lambda context like the Node.js runtime's, with a real deadline. The gateway passes its request
 * id as `awsRequestId`, so its log line and the handler's carry the same id (in AWS they differ:
 * handlers log both, see lib/http/endpoint.ts).
 */
export const lambdaContext = (
  functionName: string,
  timeoutMs = 10_000,
  requestId: string = randomUUID(),
  region = process.env.AWS_REGION ?? 'us-east-1',
): Context => {
  const deadline = Date.now() + timeoutMs;
  const fullName = `sealtalk-group-${functionName}`;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fullName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${fullName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${fullName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

// --- handlers ------------------------------------------------------------------------------------

export type LambdaHandler = (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => Promise<APIGatewayProxyResultV2<unknown>>;

const loaded = new Map<string, Promise<LambdaHandler>>();

/** `functions/<name>.ts`'s `handler`, imported once (like a warm Lambda container). */
export const loadHandler = (name: string): Promise<LambdaHandler> => {
  let handler = loaded.get(name);
  if (!handler) {
    handler = (import(`#functions/${name}.ts`) as Promise<{ handler?: unknown }>).then((module) => {
      if (typeof module.handler !== 'function') throw new Error(`functions/${name}.ts does not export a handler`);
      return module.handler as LambdaHandler;
    });
    // A failed import is retried next time (the file may be mid-edit).
    handler.catch(() => loaded.delete(name));
    loaded.set(name, handler);
  }
  return handler;
};

/** Turns what a handler returned into a response, as HTTP API (payload format 2.0) does. */
export const toStructuredResult = (result: unknown): APIGatewayProxyStructuredResultV2 => {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) return result as APIGatewayProxyStructuredResultV2;
  const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body };
};

// --- the HTTP server -----------------------------------------------------------------------------

export const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
  route?: string;
  requestId: string;
}

export interface GatewayOptions {
  /** HS256 secret tokens are verified with (see tokens.ts). */
  secret: string;
  /** Called once per request; `false` for no request log. Default: one JSON line on stdout. */
  log?: false | ((entry: RequestLogEntry) => void);
  /** The Lambda timeout each handler gets (default 10 s, as deployed). */
  functionTimeoutMs?: number;
  /** Handler loader (tests can substitute handlers); default imports `functions/<name>.ts`. */
  load?: (functionName: string) => Promise<LambdaHandler>;
}

const defaultLog = (entry: RequestLogEntry): void => {
  process.stdout.write(`${JSON.stringify({ level: 'info', time: new Date().toISOString(), message: 'http', ...entry })}\n`);
};

class BodyTooLarge extends Error {}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const bearerToken = (header: string | undefined): string | undefined => {
  if (!header) return undefined;
  const match = /^\s*(?:Bearer\s+)?(\S+)\s*$/i.exec(header);
  return match?.[1];
};

/** The request listener: route, authorize, build the event, invoke, answer. */
export const gatewayListener = (options: GatewayOptions): RequestListener => {
  const log = options.log === undefined ? defaultLog : options.log;
  const load = options.load ?? loadHandler;
  const timeoutMs = options.functionTimeoutMs ?? 10_000;

  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    const requestId = newRequestId();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const rawPath = queryAt === -1 ? url : url.slice(0, queryAt);
    const rawQueryString = queryAt === -1 ? '' : url.slice(queryAt + 1);
    let matchedRoute: string | undefined;

    const send = (status: number, headers: Record<string, string | number | boolean>, body: string | Buffer, cookies?: string[]): void => {
      if (!res.headersSent) {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
        if (cookies && cookies.length > 0) out['set-cookie'] = cookies;
        out['apigw-requestid'] = requestId;
        out['content-length'] = String(Buffer.byteLength(body));
        res.writeHead(status, out);
      }
      res.end(body);
      if (log) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log({ method, path: rawPath, status, ms: Math.round(ms * 10) / 10, ...(matchedRoute ? { route: matchedRoute } : {}), requestId });
      }
    };
    const message = (status: number, text: string, extra: Record<string, string> = {}): void =>
      send(status, { 'content-type': 'application/json', ...extra }, JSON.stringify({ message: text }));

    void (async () => {
      const match = matchRoute(method, rawPath);
      if (!match) {
        req.resume();
        message(404, 'Not Found');
        return;
      }
      matchedRoute = routeKey(match.route);

      const claims = await verifyTokenSafely(bearerToken(req.headers.authorization), options.secret);
      if (!claims) {
        req.resume();
        message(401, 'Unauthorized', { 'www-authenticate': 'Bearer' });
        return;
      }

      let body: string;
      try {
        body = await readBody(req);
      } catch (error) {
        if (error instanceof BodyTooLarge) message(413, 'Request Entity Too Large', { connection: 'close' });
        else message(400, 'Bad Request');
        return;
      }

      const event = buildEvent({
        route: match.route,
        rawPath,
        rawQueryString,
        headers: req.headers,
        pathParameters: match.pathParameters,
        claims,
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        protocol: `HTTP/${req.httpVersion}`,
        requestId,
      });

      const name = functionOf(match.route);
      let result: APIGatewayProxyStructuredResultV2;
      try {
        const handler = await load(name);
        const context = lambdaContext(name, timeoutMs, requestId);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Task timed out after ${timeoutMs / 1000} seconds`)), timeoutMs);
        });
        try {
          result = toStructuredResult(await Promise.race([handler(event, context), timedOut]));
        } finally {
          clearTimeout(timer);
        }
      } catch (error) {
        console.error(
          JSON.stringify({
            level: 'error',
            time: new Date().toISOString(),
            message: 'handler failed',
            function: name,
            requestId,
            error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
          }),
        );
        message(500, 'Internal Server Error');
        return;
      }
      const payload = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
      send(result.statusCode ?? 200, result.headers ?? {}, payload, result.cookies);
    })().catch((error: unknown) => {
      console.error('local gateway failure', error);
      if (!res.headersSent) message(500, 'Internal Server Error');
      else res.destroy();
    });
  };
};

const verifyTokenSafely = async (token: string | undefined, secret: string): Promise<Record<string, unknown> | null> =>
  token === undefined ? null : verifyToken(token, secret);

/** An `http.Server` serving the gateway (not listening yet). */
export const createGateway = (options: GatewayOptions): Server => {
  const server = createServer(gatewayListener(options));
  server.keepAliveTimeout = 5_000;
  return server;
};
