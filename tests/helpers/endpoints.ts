import { callRoute } from '#tests/helpers/lambda.ts';

/**
 * The implemented endpoints as functions of (caller, input). Each call goes through the route
 * table and the exact event the gateway and API Gateway build (`callRoute`), then the real handler.
 * `as` is a user id, or claims with `sub`.
 */

export type As = string | ({ sub: string } & Record<string, string>);

export interface Reply {
  status: number;
  headers: Record<string, string | number | boolean>;
  body: { code?: number; result?: unknown; message?: string } & Record<string, unknown>;
}

const call = (method: 'GET' | 'POST', path: string, as: As, body?: unknown): Promise<Reply> => {
  const { sub, ...claims } = typeof as === 'string' ? { sub: as } : as;
  return callRoute<Reply['body']>(method, path, { as: sub, claims, ...(body === undefined ? {} : { body }) });
};

export const api = {
  create: (as: As, body: unknown) => call('POST', '/group/create', as, body),
  get: (as: As, id: string) => call('GET', `/group/${encodeURIComponent(id)}`, as),
  members: (as: As, id: string) => call('GET', `/group/${encodeURIComponent(id)}/members`, as),
  rename: (as: As, body: unknown) => call('POST', '/group/rename', as, body),
  userGroups: (as: As) => call('GET', '/user/groups', as),
};

/** Creates a group and returns its id, failing loudly if creation did not succeed. */
export const createGroup = async (owner: As, memberIds: string[], name = 'Test group'): Promise<string> => {
  const reply = await api.create(owner, { name, memberIds });
  if (reply.body.code !== 200) throw new Error(`create failed: ${JSON.stringify(reply.body)}`);
  return (reply.body.result as { id: string }).id;
};
