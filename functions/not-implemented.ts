import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { jsonResponse } from '#lib/http/responses.ts';

/**
 * Serves every route of `lib/routes.ts` whose handler has not landed yet (`implemented: false`):
 * 501 with the usual error envelope, so clients get a clear answer instead of a 404.
 */
export const handler = async (): Promise<APIGatewayProxyStructuredResultV2> =>
  jsonResponse(501, { code: 501, message: 'not implemented yet' });
