import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { callerFromEvent, Unauthenticated, type Caller } from './caller.ts';
import { describeIssues } from '../validation.ts';
import * as z from 'zod/mini';
import '../zod.ts';
import { errorResponse, jsonResponse, success } from './responses.ts';
import { createLogger, type Logger } from '../log.ts';
import { withHttpMetrics } from '../metrics.ts';

/**
 * The one middy stack every endpoint shares: request log context, caller from JWT claims, JSON body,
 * zod input, the caller's profile projection, the `{code, result}` envelope, and domain errors →
 * HTTP. A handler only declares its input schema and calls one domain operation.
 */

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export interface EndpointContext<I> {
  input: I;
  caller: Caller;
  log: Logger;
}

export interface EndpointSpec<S extends z.core.$ZodType> {
  /** The input: the JSON body (POST/DELETE) or the query string (GET), plus path parameters. */
  input: S;
  run: (ctx: EndpointContext<z.output<S>>) => Promise<unknown>;
}

/** What an endpoint declares, readable without running it (docs/openapi.json is generated from it). */
export interface EndpointContract<S extends z.core.$ZodType = z.core.$ZodType> {
  input: S;
}

/** A handler of the shared stack, carrying its `contract`. */
export type EndpointHandler<S extends z.core.$ZodType = z.core.$ZodType> = HttpHandler & { readonly contract: EndpointContract<S> };

/** Raised by the stack itself for transport problems (bad JSON); mapped to 400. */
export class BadRequest extends Error {}

/**
 * Hook run with the caller alongside every handler (the store's claim projection in production):
 * the handler does not wait for it, the answer does.
 */
export type CallerHook = (caller: Caller, log: Logger) => Promise<void>;

interface State {
  caller?: Caller;
  log: Logger;
  input?: unknown;
  /** The caller hook, running alongside the handler's own work (never rejects). */
  projection?: Promise<void>;
}

const readBody = (event: HttpEvent): unknown => {
  if (event.body === undefined || event.body === null || event.body === '') return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequest('body: malformed JSON');
  }
};

const rawInput = (event: HttpEvent): Record<string, unknown> => {
  const method = event.requestContext?.http?.method ?? 'GET';
  const fromBody = method === 'GET' ? {} : readBody(event);
  if (typeof fromBody !== 'object' || fromBody === null || Array.isArray(fromBody)) {
    throw new BadRequest('body: expected a JSON object');
  }
  const fromQuery = method === 'GET' ? (event.queryStringParameters ?? {}) : {};
  return { ...fromQuery, ...(fromBody as Record<string, unknown>), ...(event.pathParameters ?? {}) };
};

/**
 * The ids a request is logged with: `requestId` is API Gateway's (in its access log and its
 * `apigw-requestid` response header, and in a 500's body), `awsRequestId` the Lambda invocation's
 * (in the platform's REPORT line). Locally the gateway passes one id as both.
 */
const requestIds = (event: HttpEvent, context: Context): { requestId: string; awsRequestId: string } => ({
  requestId: event.requestContext?.requestId ?? context.awsRequestId,
  awsRequestId: context.awsRequestId,
});

export const createEndpointFactory =
  (onCaller: CallerHook) =>
  <S extends z.core.$ZodType>(spec: EndpointSpec<S>): EndpointHandler<S> => {
    const core = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
      const state = (context as Context & { state: State }).state;
      const caller = state.caller as Caller;
      try {
        const result = await spec.run({ input: state.input as z.output<S>, caller, log: state.log });
        return success(result);
      } finally {
        // Never left running after the answer: Lambda may freeze the container right after it.
        await state.projection;
      }
    };

    const handler = middy<HttpEvent, HttpResult, Error, Context>({ timeoutEarlyInMillis: 0 })
      .use({
        before: async (request) => {
          const { event, context } = request;
          const log = createLogger({ service: 'sealtalk-group', ...requestIds(event, context), route: event.routeKey });
          const state: State = { log };
          (context as Context & { state: State }).state = state;
          state.caller = callerFromEvent(event);
          state.log = log.child({ userId: state.caller.userId });
          const parsed = z.safeParse(spec.input, rawInput(event));
          if (!parsed.success) throw new BadRequest(describeIssues(parsed.error));
          state.input = parsed.data;
          // Alongside the handler's first reads, not before them: the projection must not add a
          // round trip. It cannot fail the request; a failed one is written by the next request.
          const projectionLog = state.log;
          state.projection = onCaller(state.caller, projectionLog).catch((error: unknown) => {
            projectionLog.warn('profile claims not projected; the next request writes them', { error: String(error) });
          });
        },
        after: async (request) => {
          const state = (request.context as Context & { state?: State }).state;
          state?.log.info('request done', { status: request.response?.statusCode });
        },
        onError: async (request) => {
          const state = (request.context as Context & { state?: State }).state;
          const ids = requestIds(request.event, request.context);
          const log = state?.log ?? createLogger({ service: 'sealtalk-group', ...ids });
          const error = request.error;
          if (error instanceof Unauthenticated) {
            request.response = jsonResponse(401, { message: 'Unauthorized' });
            return;
          }
          if (error instanceof BadRequest) {
            log.info('request rejected', { status: 400, reason: error.message });
            request.response = jsonResponse(400, { code: 400, message: error.message });
            return;
          }
          request.response = errorResponse(error, ids.requestId, log);
        },
      })
      .handler(core);
    return Object.assign(withHttpMetrics(handler as unknown as HttpHandler), { contract: { input: spec.input } });
  };
