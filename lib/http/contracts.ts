import * as z from 'zod';
import { BusinessCodes, type BusinessCode } from '../domain/errors.ts';
import { routeKey, routes } from '../routes.ts';

/**
 * The response contract of every route of `lib/routes.ts`: the success body exactly as the views
 * produce it, and every error answer the route can give (derived from the domain and the HTTP
 * stack: `lib/http/responses.ts` maps each domain error class to one status). The inputs are the
 * handlers' own zod schemas (`handler.contract.input`). `npm run openapi` turns both into
 * docs/openapi.json; tests/integration/openapi-responses.test.ts checks real answers against them.
 *
 * Wire rules (docs/decisions.md): `*Time` and `timestamp` are epoch ms numbers, `*At` ISO strings;
 * response objects are strict (a field the contract does not name is a contract break).
 */

/** Epoch milliseconds. */
const ms = () => z.number().int().min(0).describe('epoch milliseconds');
/** An ISO 8601 time (`Date.prototype.toISOString`). */
const iso = () => z.iso.datetime().describe('ISO 8601 time');
const flag = () => z.literal([0, 1]);

// ---- Shared shapes (components of docs/openapi.json) --------------------------------------------

/** One instance per key, so a shape used by many routes is one schema (one component). */
const once = <K, T>(make: (key: K) => T) => {
  const made = new Map<K, T>();
  return (key: K): T => {
    const found = made.get(key);
    if (found !== undefined) return found;
    const fresh = make(key);
    made.set(key, fresh);
    return fresh;
  };
};

/** Error answers: `{code, message}` with `code` the HTTP status. */
export const errorBody = once((status: number) =>
  z.strictObject({ code: z.literal(status), message: z.string() }).describe(`HTTP ${status}: \`code\` is the status, \`message\` names the field or the rule`),
);

/** A missing or bad token: the JWT authorizer's answer (the handlers answer the same for claims they cannot read). */
export const unauthorizedBody = z.strictObject({ message: z.literal('Unauthorized') }).describe('HTTP 401 of the JWT authorizer');

/** An unexpected failure: a bug, never an answer to bad input; quote `requestId`. */
export const internalErrorBody = z
  .strictObject({ code: z.literal(500), message: z.literal('internal error'), requestId: z.string() })
  .describe('HTTP 500: `requestId` is API Gateway\'s request id (the `apigw-requestid` header)');

const BUSINESS_MEANINGS: Record<BusinessCode, string> = {
  [BusinessCodes.userGroupLimit]: 'a user is at the per-user group limit',
  [BusinessCodes.noPermission]: 'no permission',
  [BusinessCodes.limit]: 'limit reached',
  [BusinessCodes.notFound]: 'no such notice (or past its expiry)',
  [BusinessCodes.protected]: 'the source group is younger than the copy protection period',
  [BusinessCodes.copied]: 'the source group was copied within the copy interval',
  [BusinessCodes.noGroup]: 'no such group',
  [BusinessCodes.memberLimit]: 'the group has only one member',
};

/** A business rejection answered in HTTP 200 with the reference's code (no `result`). */
export const rejectionBody = once((code: BusinessCode) =>
  z.strictObject({ code: z.literal(code), message: z.string() }).describe(`HTTP 200 business code ${code}: ${BUSINESS_MEANINGS[code]}`),
);

const ok = () => z.literal(200);
/** `{"code":200}`: nothing to return. */
export const emptySuccess = z.strictObject({ code: ok() }).describe('success, nothing to return');
const success = <T extends z.ZodType>(result: T) => z.strictObject({ code: ok(), result });

/** `userStatus` of create and copy, and `result` of add: 1 added, 2 waiting for a manager, 3 waiting for the invitee. */
export const userStatus = z.strictObject({ id: z.string(), status: z.literal([1, 2, 3]) });

/** GET /group/{id} (`groupView`). */
export const groupView = z.strictObject({
  id: z.string(),
  name: z.string(),
  portraitUri: z.string(),
  memberCount: z.number().int(),
  maxMemberCount: z.number().int(),
  creatorId: z.string(),
  bulletin: z.string().nullable(),
  bulletinTime: ms().nullable(),
  deletedAt: iso().nullable(),
  isMute: flag(),
  certiStatus: flag().describe('0: approval needed, 1: not'),
  memberProtection: flag(),
});

/** Roles: 0 owner, 1 member, 2 manager. */
const role = () => z.literal([0, 1, 2]).describe('0 owner, 1 member, 2 manager');

/** One member of GET /group/{id}/members (`membersView`); protection hides `phone` and `stAccount` from plain members. */
export const memberView = z.strictObject({
  displayName: z.string(),
  role: role(),
  timestamp: ms(),
  groupNickname: z.string(),
  createdAt: iso(),
  updatedAt: iso(),
  user: z.strictObject({
    id: z.string(),
    nickname: z.string(),
    portraitUri: z.string(),
    gender: z.string(),
    stAccount: z.string().optional(),
    phone: z.string().optional(),
  }),
  createdTime: ms(),
  updatedTime: ms(),
});

/** One entry of GET /user/groups (`userGroupsView`). */
export const userGroupView = z.strictObject({
  role: role(),
  displayName: z.string(),
  group: z.strictObject({
    id: z.string(),
    name: z.string(),
    portraitUri: z.string(),
    creatorId: z.string(),
    memberCount: z.number().int(),
    maxMemberCount: z.number().int(),
    isMute: flag(),
    certiStatus: flag(),
    memberProtection: flag(),
  }),
});

/** One notice of GET /group/notice_info (`noticeView`): type 1 invitation, 2 join request; status 0 ignored, 1 agreed, 2 waiting, 3 expired. */
export const noticeView = z.strictObject({
  id: z.string(),
  type: z.literal([1, 2]),
  status: z.literal([0, 1, 2, 3]),
  timestamp: ms(),
  createdTime: ms(),
  createdAt: iso(),
  requester: z.strictObject({ id: z.string(), nickname: z.string() }),
  receiver: z.strictObject({ id: z.string(), nickname: z.string() }),
  group: z.strictObject({ id: z.string(), name: z.string() }),
});

/** One departure of POST /group/exited_list: quitReason 0 kicked by the owner, 1 by a manager, 2 quit. */
export const exitedView = z.strictObject({
  quitUserId: z.string(),
  quitNickname: z.string(),
  quitPortraitUri: z.string(),
  quitReason: z.literal([0, 1, 2]),
  quitTime: ms(),
  operatorId: z.string().nullable(),
  operatorName: z.string().nullable(),
});

/** GET /group/get_bulletin (`bulletinView`): `id` the per-group counter (a number), no `groupId`. */
export const bulletinView = z.strictObject({ id: z.number().int().min(1), content: z.string(), timestamp: ms() });

/** POST /group/get_member_info: `memberDesc` is always an array; protection blanks `phone`, `WeChat`, `Alipay`. */
export const memberInfoView = z.strictObject({
  groupNickname: z.string(),
  region: z.string(),
  phone: z.string(),
  WeChat: z.string(),
  Alipay: z.string(),
  memberDesc: z.array(z.string()),
});

/** One saved group of GET /user/favgroups (`favGroupView`). */
export const favGroupView = z.strictObject({
  id: z.string(),
  name: z.string(),
  portraitUri: z.string(),
  creatorId: z.string(),
  isMute: flag(),
  certiStatus: flag(),
  memberCount: z.number().int(),
  memberProtection: flag(),
  maxMemberCount: z.number().int(),
  createdAt: iso(),
  updatedAt: iso(),
  createdTime: ms(),
  updatedTime: ms(),
});

const created = z.strictObject({ id: z.string(), userStatus: z.array(userStatus) });

/** Shared schemas by component name (docs/openapi.json `components.schemas`). */
export const sharedSchemas: Record<string, z.ZodType> = {
  EmptySuccess: emptySuccess,
  Unauthorized: unauthorizedBody,
  InternalError: internalErrorBody,
  UserStatus: userStatus,
  Group: groupView,
  Member: memberView,
  UserGroup: userGroupView,
  Notice: noticeView,
  ExitRecord: exitedView,
  Bulletin: bulletinView,
  MemberInfo: memberInfoView,
  FavGroup: favGroupView,
};

// ---- Per route ----------------------------------------------------------------------------------

/** Statuses of `{code, message}` errors (401 here is the domain's "no permission", with that envelope). */
export type ErrorStatus = 400 | 401 | 402 | 403 | 404 | 405;
export const ERROR_STATUSES: readonly ErrorStatus[] = [400, 401, 402, 403, 404, 405];

export type Tag = 'groups' | 'membership' | 'roles' | 'settings' | 'controls';
export const TAGS: Record<Tag, string> = {
  groups: 'Create and read groups, a user\'s groups',
  membership: 'Invitations, joins, notices and departures',
  roles: 'Ownership, managers and dismissal',
  settings: 'Group settings and member cards',
  controls: 'Mute, regular clear, saved groups and copies',
};

export interface RouteContract {
  tag: Tag;
  summary: string;
  /** The HTTP 200 body of a success. */
  ok: z.ZodType;
  /** Business codes answered in HTTP 200 `{code, message}`. */
  business: readonly BusinessCode[];
  /** HTTP error statuses with the `{code, message}` envelope (the authorizer's 401 and the 500 apply to every route). */
  errors: readonly ErrorStatus[];
}

const contract = (tag: Tag, summary: string, okBody: z.ZodType, errors: readonly ErrorStatus[], business: readonly BusinessCode[] = []): RouteContract => ({
  tag,
  summary,
  ok: okBody,
  business,
  errors,
});

const { userGroupLimit, noPermission, notFound, protected: isProtected, copied, noGroup, memberLimit } = BusinessCodes;

/**
 * Why each status: 400 a field or rule (also malformed JSON on POST/DELETE), 401 (`{code, message}`)
 * `NoPermission`, 402 `NotInGroup`, 403 `Forbidden`, 404 `NotFound`, 405 `NotAllowed` (including
 * "the group kept changing; try again" where an operation re-reads and decides again).
 */
export const contracts: Record<string, RouteContract> = {
  'POST /group/create': contract('groups', 'Create a group; the caller becomes its owner', success(created), [400, 405], [userGroupLimit]),
  'POST /group/add': contract('membership', 'Add or invite users (members only)', success(z.array(userStatus)), [400, 403, 404, 405], [userGroupLimit]),
  'POST /group/join': contract('membership', 'Join, or ask to join while certification is on', success(z.strictObject({ status: z.literal([1, 2]) })), [400, 404, 405], [userGroupLimit]),
  'POST /group/kick': contract('membership', 'The owner or a manager removes members', emptySuccess, [400, 403, 404, 405]),
  'POST /group/quit': contract('membership', 'Leave the group (the owner hands over, or dismisses as the last member)', emptySuccess, [400, 403, 404, 405]),
  'POST /group/dismiss': contract('roles', 'The owner dismisses the group', emptySuccess, [400, 404, 405]),
  'POST /group/transfer': contract('roles', 'The owner hands ownership to another member', emptySuccess, [400, 403, 404, 405]),
  'POST /group/set_manager': contract('roles', 'The owner makes members managers', emptySuccess, [400, 401, 402, 403, 404, 405]),
  'POST /group/remove_manager': contract('roles', 'The owner makes managers plain members', emptySuccess, [400, 401, 402, 403, 404, 405]),
  'POST /group/rename': contract('groups', 'The owner renames the group', emptySuccess, [400, 404, 405]),
  'POST /group/fav': contract('controls', 'A member saves the group', emptySuccess, [400, 403, 404, 405]),
  'DELETE /group/fav': contract('controls', 'Forget a saved group (JSON body)', emptySuccess, [400]),
  'POST /group/set_bulletin': contract('settings', 'The owner or a manager publishes a bulletin: `content` when non-empty, else `bulletin` ("" allowed)', emptySuccess, [400, 403, 404, 405]),
  'GET /group/get_bulletin': contract('settings', 'The latest bulletin, by `groupId` or `id` (one is required); HTTP 402 when there is none', success(bulletinView), [400, 402, 404]),
  'POST /group/set_portrait_uri': contract('settings', 'The owner sets the group portrait', emptySuccess, [400, 404, 405]),
  'POST /group/set_display_name': contract('settings', "The caller's own display name in the group", emptySuccess, [400, 404, 405]),
  'POST /group/set_certification': contract('settings', 'The owner or a manager switches join approval', emptySuccess, [400, 404, 405], [noPermission]),
  'POST /group/agree': contract('membership', 'Answer an invitation or a join request (`status` 1 agree, 0 ignore; "1"/"0" accepted too)', emptySuccess, [400, 403, 404, 405], [notFound, userGroupLimit]),
  'GET /group/notice_info': contract('membership', "The caller's notices, newest first", success(z.array(noticeView)), []),
  'POST /group/clear_notice': contract('membership', "Empty the caller's notice list", emptySuccess, [400]),
  'POST /group/mute_all': contract('controls', 'The owner or a manager mutes (1) or unmutes (0) the group; `userId` names who may still speak', emptySuccess, [400, 403, 404, 405]),
  'POST /group/set_regular_clear': contract('controls', 'The owner switches regular message clearing', emptySuccess, [400, 404, 405]),
  'POST /group/get_regular_clear': contract('controls', "The group's regular clear setting", success(z.strictObject({ clearStatus: z.literal([0, 3, 7, 36]) })), [400, 404]),
  'POST /group/set_member_protection': contract('settings', 'The owner or a manager switches member protection', emptySuccess, [400, 403, 404, 405]),
  'POST /group/set_member_info': contract('settings', "Set fields of a member's card", emptySuccess, [400, 403, 404, 405]),
  'POST /group/get_member_info': contract('settings', "A member's card", success(memberInfoView), [400, 403, 404]),
  'POST /group/copy_group': contract('controls', 'Copy the group (its members) into a new one', success(created), [400, 403, 405], [
    isProtected,
    copied,
    noGroup,
    memberLimit,
    userGroupLimit,
  ]),
  'POST /group/exited_list': contract('membership', 'Who left the group (owner and managers)', success(z.array(exitedView)), [400, 403, 404]),
  'GET /group/{id}': contract('groups', 'A group (dismissed ones with `deletedAt`)', success(groupView), [404]),
  'GET /group/{id}/members': contract(
    'groups',
    'The members (members only); `?limit=&cursor=` pages them',
    z.strictObject({ code: ok(), result: z.array(memberView), nextCursor: z.string().optional() }),
    [400, 403, 404],
  ),
  'GET /user/groups': contract('groups', "The caller's groups and role in each", success(z.array(userGroupView)), []),
  'GET /user/favgroups': contract(
    'controls',
    "The caller's saved groups (`limit` and `offset` page them when both are integers)",
    success(z.strictObject({ list: z.array(favGroupView), total: z.number().int(), limit: z.string().optional(), offset: z.string().optional() })),
    [],
  ),
};

/** The contract of a route, or an error naming it. */
export const contractOf = (key: string): RouteContract => {
  const found = contracts[key];
  if (!found) throw new Error(`no response contract for ${key} in lib/http/contracts.ts`);
  return found;
};

/** The routes of lib/routes.ts without a contract (should be none). */
export const routesWithoutContract = (): string[] => routes.map(routeKey).filter((key) => !(key in contracts));

/**
 * The body schemas a route may answer with, by HTTP status: 200 (success or a business code), each
 * error status, 401 (the authorizer, plus the domain's 401 where the route has it) and 500.
 */
export const responseSchemas = (key: string): Map<number, z.ZodType> => {
  const c = contractOf(key);
  const out = new Map<number, z.ZodType>();
  out.set(200, c.business.length === 0 ? c.ok : z.union([c.ok, ...c.business.map(rejectionBody)]));
  for (const status of c.errors) if (status !== 401) out.set(status, errorBody(status));
  out.set(401, c.errors.includes(401) ? z.union([unauthorizedBody, errorBody(401)]) : unauthorizedBody);
  out.set(500, internalErrorBody);
  return new Map([...out].sort(([a], [b]) => a - b));
};
