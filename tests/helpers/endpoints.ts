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

const call = (method: 'GET' | 'POST' | 'DELETE', path: string, as: As, body?: unknown): Promise<Reply> => {
  const { sub, ...claims } = typeof as === 'string' ? { sub: as } : as;
  return callRoute<Reply['body']>(method, path, { as: sub, claims, ...(body === undefined ? {} : { body }) });
};

export const api = {
  create: (as: As, body: unknown) => call('POST', '/group/create', as, body),
  get: (as: As, id: string) => call('GET', `/group/${encodeURIComponent(id)}`, as),
  members: (as: As, id: string) => call('GET', `/group/${encodeURIComponent(id)}/members`, as),
  rename: (as: As, body: unknown) => call('POST', '/group/rename', as, body),
  userGroups: (as: As) => call('GET', '/user/groups', as),
  add: (as: As, body: unknown) => call('POST', '/group/add', as, body),
  join: (as: As, body: unknown) => call('POST', '/group/join', as, body),
  kick: (as: As, body: unknown) => call('POST', '/group/kick', as, body),
  quit: (as: As, body: unknown) => call('POST', '/group/quit', as, body),
  dismiss: (as: As, body: unknown) => call('POST', '/group/dismiss', as, body),
  transfer: (as: As, body: unknown) => call('POST', '/group/transfer', as, body),
  setManager: (as: As, body: unknown) => call('POST', '/group/set_manager', as, body),
  removeManager: (as: As, body: unknown) => call('POST', '/group/remove_manager', as, body),
  agree: (as: As, body: unknown) => call('POST', '/group/agree', as, body),
  noticeInfo: (as: As) => call('GET', '/group/notice_info', as),
  clearNotice: (as: As, body?: unknown) => call('POST', '/group/clear_notice', as, body),
  exitedList: (as: As, body: unknown) => call('POST', '/group/exited_list', as, body),
  setBulletin: (as: As, body: unknown) => call('POST', '/group/set_bulletin', as, body),
  getBulletin: (as: As, query: Record<string, string>) => call('GET', `/group/get_bulletin?${new URLSearchParams(query).toString()}`, as),
  setPortraitUri: (as: As, body: unknown) => call('POST', '/group/set_portrait_uri', as, body),
  setDisplayName: (as: As, body: unknown) => call('POST', '/group/set_display_name', as, body),
  setCertification: (as: As, body: unknown) => call('POST', '/group/set_certification', as, body),
  muteAll: (as: As, body: unknown) => call('POST', '/group/mute_all', as, body),
  setRegularClear: (as: As, body: unknown) => call('POST', '/group/set_regular_clear', as, body),
  getRegularClear: (as: As, body: unknown) => call('POST', '/group/get_regular_clear', as, body),
  setMemberProtection: (as: As, body: unknown) => call('POST', '/group/set_member_protection', as, body),
  setMemberInfo: (as: As, body: unknown) => call('POST', '/group/set_member_info', as, body),
  getMemberInfo: (as: As, body: unknown) => call('POST', '/group/get_member_info', as, body),
  copyGroup: (as: As, body: unknown) => call('POST', '/group/copy_group', as, body),
  favAdd: (as: As, body: unknown) => call('POST', '/group/fav', as, body),
  favRemove: (as: As, body: unknown) => call('DELETE', '/group/fav', as, body),
  favGroups: (as: As, query: Record<string, string> = {}) => call('GET', `/user/favgroups?${new URLSearchParams(query).toString()}`, as),
  /** GET /group/{id}/members with a query string (paging). */
  membersPage: (as: As, id: string, query: Record<string, string>) =>
    call('GET', `/group/${encodeURIComponent(id)}/members?${new URLSearchParams(query).toString()}`, as),
};

/** Creates a group and returns its id, failing loudly if creation did not succeed. */
export const createGroup = async (owner: As, memberIds: string[], name = 'Test group'): Promise<string> => {
  const reply = await api.create(owner, { name, memberIds });
  if (reply.body.code !== 200) throw new Error(`create failed: ${JSON.stringify(reply.body)}`);
  return (reply.body.result as { id: string }).id;
};
