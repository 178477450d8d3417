import { handler as createHandler } from '#functions/group-create.ts';
import { handler as getHandler } from '#functions/group-get.ts';
import { handler as membersHandler } from '#functions/group-members.ts';
import { handler as renameHandler } from '#functions/group-rename.ts';
import { handler as userGroupsHandler } from '#functions/user-groups.ts';
import { invoke, type Reply } from './events.ts';

/**
 * The implemented endpoints as functions of (caller, input), calling the real handlers with the
 * event API Gateway would send. `as` is a user id, or claims with `sub`.
 */

export type As = string | ({ sub: string } & Record<string, string>);
const claimsOf = (as: As) => (typeof as === 'string' ? { sub: as } : as);

export const api = {
  create: (as: As, body: unknown): Promise<Reply> =>
    invoke(createHandler, { routeKey: 'POST /group/create', body, claims: claimsOf(as) }),
  get: (as: As, id: string): Promise<Reply> =>
    invoke(getHandler, { method: 'GET', routeKey: 'GET /group/{id}', pathParameters: { id }, claims: claimsOf(as) }),
  members: (as: As, id: string): Promise<Reply> =>
    invoke(membersHandler, { method: 'GET', routeKey: 'GET /group/{id}/members', pathParameters: { id }, claims: claimsOf(as) }),
  rename: (as: As, body: unknown): Promise<Reply> =>
    invoke(renameHandler, { routeKey: 'POST /group/rename', body, claims: claimsOf(as) }),
  userGroups: (as: As): Promise<Reply> =>
    invoke(userGroupsHandler, { method: 'GET', routeKey: 'GET /user/groups', claims: claimsOf(as) }),
};

/** Creates a group and returns its id, failing loudly if creation did not succeed. */
export const createGroup = async (owner: As, memberIds: string[], name = 'Test group'): Promise<string> => {
  const reply = await api.create(owner, { name, memberIds });
  if (reply.body.code !== 200) throw new Error(`create failed: ${JSON.stringify(reply.body)}`);
  return (reply.body.result as { id: string }).id;
};
