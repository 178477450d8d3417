import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  DomainError,
  Forbidden,
  InvalidInput,
  NoPermission,
  NotAllowed,
  NotFound,
  NotInGroup,
  Rejected,
} from '../domain/errors.ts';
import type { Logger } from '../log.ts';
import { KEPT_CHANGING } from '../domain/stale.ts';
import { CommitCancelled } from '../store/commit.ts';

/** The SealTalk envelope: `{"code":200,"result":...}`, `result` omitted when there is none. */

const headers = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'private' };

export const jsonResponse = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { ...headers },
  body: JSON.stringify(body),
});

const PAGE = Symbol('page');

/**
 * A page of a list: the body keeps `result` the array clients parse and adds `nextCursor` beside it
 * when there is more.
 */
export interface Page {
  readonly [PAGE]: true;
  items: unknown[];
  nextCursor?: string;
}

export const page = (items: unknown[], nextCursor?: string): Page => ({ [PAGE]: true, items, ...(nextCursor ? { nextCursor } : {}) });

const isPage = (value: unknown): value is Page => typeof value === 'object' && value !== null && PAGE in value;

export const success = (result: unknown): APIGatewayProxyStructuredResultV2 => {
  if (isPage(result)) return jsonResponse(200, { code: 200, result: result.items, ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}) });
  return jsonResponse(200, result === undefined || result === null ? { code: 200 } : { code: 200, result });
};

/** HTTP status of each domain error class; `Rejected` answers HTTP 200 with its business code. */
const statusOf = (error: DomainError): number => {
  if (error instanceof InvalidInput) return 400;
  if (error instanceof NoPermission) return 401;
  if (error instanceof NotInGroup) return 402;
  if (error instanceof Forbidden) return 403;
  if (error instanceof NotFound) return 404;
  if (error instanceof NotAllowed) return 405;
  return 500;
};

/**
 * Maps any error to a response. Domain errors expose their message; anything else is a bug: a
 * generic 500 with `requestId` (API Gateway's request id: the one in the `apigw-requestid` header,
 * the access log and every log line of the request), the details only in the log.
 */
export const errorResponse = (error: unknown, requestId: string, log: Logger): APIGatewayProxyStructuredResultV2 => {
  if (error instanceof Rejected) {
    log.info('request rejected', { status: 200, code: error.businessCode, reason: error.message });
    return jsonResponse(200, { code: error.businessCode, message: error.message });
  }
  if (error instanceof DomainError) {
    const status = statusOf(error);
    if (status < 500) {
      log.info('request rejected', { status, code: error.code, reason: error.message });
      return jsonResponse(status, { code: status, message: error.message });
    }
  }
  // Concurrent transactions kept winning through every retry of the commit path, and the operation
  // has no re-read of its own: nothing was written, so the client may simply try again (405), as
  // every operation that does re-read answers in the end. Never a 500.
  if (error instanceof CommitCancelled && error.onlyConflicts()) {
    log.warn('request rejected: the group kept changing', { status: 405 });
    return jsonResponse(405, { code: 405, message: KEPT_CHANGING });
  }
  log.error('request failed', { error });
  return jsonResponse(500, { code: 500, message: 'internal error', requestId });
};
