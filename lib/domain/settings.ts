/**
 * Settings: set_bulletin, get_bulletin, set_portrait_uri, set_display_name, set_certification,
 * set_member_protection, set/get_member_info. Rules: docs/decisions.md and the reference's §5.12–§5.15,
 * §5.18, §5.23, §5.24, with its holes fixed (every endpoint checks the caller's role, a dismissed
 * group refuses every change, bulletins get distinct increasing ids under concurrency).
 *
 * Each change reads, decides, then commits through ONE store call whose conditions guarantee what
 * was read (the group is active, the caller still holds the role the decision used, the counter or
 * flag is still the one read). A failed guard is `StaleRead`: the operation reads and decides again,
 * so the answer is the one the new state calls for.
 */

import { domainEvent, type DomainEvent } from '../events/index.ts';
import { BusinessCodes, Forbidden, InvalidInput, NotFound, NotInGroup, Rejected } from './errors.ts';
import { UNKNOWN_GROUP, visibleGroup } from './groups.ts';
import { isPossibleGroupId } from './ids.ts';
import { Role, type Group, type Member } from './model.ts';
import type { SettingsDeps } from './ports.ts';
import { withFreshRead } from './stale.ts';
import { codePointLength, escapeHtml, escapeWithin } from './text.ts';

export const BULLETIN_MAX = 1024;
export const DISPLAY_NAME_MAX = 32;
export const PORTRAIT_URI = { min: 12, max: 256 } as const;

export const NO_BULLETIN = 'No group bulletin.';
export const NOT_CREATOR = 'Unknown group or not creator.';
export const NOT_GROUP_MEMBER = 'Not a group member.';
export const ONLY_MANAGERS_BULLETIN = 'Only the group owner or a manager can set the bulletin.';
export const ONLY_MANAGERS_PROTECTION = 'Only the group owner or a manager can set member protection.';
export const ONLY_MEMBER_INFO = 'Only the member themself, the group owner or a manager can set member info.';
export const ONLY_MEMBERS_READ_INFO = 'Only group member can get group member info.';

/**
 * Who acts, as the decision read it from the group item: the owner (`creatorId`), a manager
 * (`managerIds`), or (member info, display name) a member acting on their own card (`self`: only
 * the group being active is guarded, the member item's existence by its own write).
 */
export type Operator = { userId: string; role: typeof Role.owner | typeof Role.manager } | { userId: string; role: 'self' };

/** Group settings these endpoints write; each is guarded by the operator and the group being active. */
export interface GroupSettings {
  portraitUri?: string;
  certiStatus?: number;
  memberProtection?: number;
}

/** Member info fields (set_member_info): only the given ones change. */
export interface MemberInfo {
  groupNickname?: string;
  /** Set together with `groupNickname` (clients read `displayName` on Android and Web). */
  displayName?: string;
  region?: string;
  phone?: string;
  WeChat?: string;
  Alipay?: string;
  memberDesc?: string[];
}

export interface PublishedBulletin {
  /** The per-group counter: `bulletinCount` as read + 1. */
  id: number;
  content: string;
  /** Epoch ms. */
  time: number;
}

/** What these operations need from storage (implemented in lib/store/settings.ts). */
export interface SettingsStore {
  /** The group item (strongly consistent), or null. */
  group(groupId: string): Promise<Group | null>;
  /** The members among `userIds` (strongly consistent), by user id. */
  members(groupId: string, userIds: readonly string[]): Promise<Map<string, Member>>;
  /**
   * In one transaction: the history item `BULLETIN#<id>` (new), and the group's `bulletin`,
   * `bulletinTime`, `bulletinCount = id`, guarded by `bulletinCount` still `id - 1`, the group
   * active and the operator still in their role; with `event`. Throws `StaleRead` when any moved.
   */
  publishBulletin(input: { group: Group; operator: Operator; bulletin: PublishedBulletin; event: DomainEvent }): Promise<void>;
  /**
   * Sets `settings` on the group item, guarded by the group active, the operator in their role and
   * each field of `expected` still as read; with `event` when given. Throws `StaleRead` otherwise.
   */
  updateGroup(input: {
    group: Group;
    operator: Operator;
    settings: GroupSettings;
    expected?: GroupSettings;
    now: number;
    event?: DomainEvent;
  }): Promise<void>;
  /**
   * Sets the given member info fields on `memberId`'s member item (still a member), guarded by the
   * group active and the operator in their role. Throws `StaleRead` otherwise.
   */
  setMemberInfo(input: { groupId: string; operator: Operator; memberId: string; info: MemberInfo; now: number }): Promise<void>;
  /** Sets the member's `displayName` while the group is active; false when no such member (or group). */
  setDisplayName(input: { groupId: string; userId: string; displayName: string; now: number }): Promise<boolean>;
}

/** Reads, decides and commits, again while the state moves (at most ATTEMPTS times, then 405: ./stale.ts). */
const fresh = <T>(run: () => Promise<T>): Promise<T> => withFreshRead(run, ATTEMPTS);
const ATTEMPTS = 25;

/** The group if it is live: unknown, impossible, half-created and dismissed ids are all 404. */
const liveGroup = async (deps: SettingsDeps, groupId: string): Promise<Group> => {
  const group = isPossibleGroupId(groupId) ? await deps.settings.group(groupId) : null;
  if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
  return group;
};

/** The caller as owner or manager of `group` (from the group item), or null. */
const managingOperator = (group: Group, callerId: string): Operator | null => {
  if (group.creatorId === callerId) return { userId: callerId, role: Role.owner };
  if (group.managerIds.includes(callerId)) return { userId: callerId, role: Role.manager };
  return null;
};

/**
 * POST /group/set_bulletin: the owner or a manager publishes a bulletin (empty allowed). Each gets
 * the next per-group id (an int32 counter); the latest is copied onto the group item, so GET
 * /group/{id} shows it; a non-empty one is announced with the @all message (the notifier).
 */
export const setBulletin = async (
  deps: SettingsDeps,
  callerId: string,
  input: { groupId: string; text: string; field: 'content' | 'bulletin' },
): Promise<void> => {
  const content = escapeWithin(input.text, 0, BULLETIN_MAX);
  if (content === null) throw new InvalidInput(`${input.field}: Length of bulletin invalid.`);
  await fresh(async () => {
    const group = await liveGroup(deps, input.groupId);
    const operator = managingOperator(group, callerId);
    if (!operator) throw new Forbidden(ONLY_MANAGERS_BULLETIN);
    const now = deps.now();
    const id = group.bulletinCount + 1;
    await deps.settings.publishBulletin({
      group,
      operator,
      bulletin: { id, content, time: now },
      event: domainEvent('BulletinPublished', { groupId: group.id, operatorId: callerId, bulletinId: id, content, timestamp: now }),
    });
  });
};

/**
 * GET /group/get_bulletin: the latest bulletin, readable by anyone who may read GET /group/{id}
 * (a dismissed group's last bulletin too); HTTP 402 when the group never had one.
 */
export const getBulletin = async (deps: SettingsDeps, input: { groupId: string }): Promise<PublishedBulletin> => {
  const group = await visibleGroup(deps, input.groupId);
  if (group.bulletinCount === 0 || group.bulletin === null) throw new NotInGroup(NO_BULLETIN);
  return { id: group.bulletinCount, content: group.bulletin, time: group.bulletinTime ?? group.updatedAt };
};

/** An http(s) URL with a scheme and a dotted host (or an IPv4 address), as the reference's `isURL`. */
const isPortraitUrl = (value: string): boolean => {
  if (!/^https?:\/\/[^\s/?#]+/i.test(value) || /\s/.test(value)) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname;
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || /^([a-z0-9-]+\.)+[a-z\u00a1-\uffff]{2,}$/i.test(host);
};

/** POST /group/set_portrait_uri: the owner sets the group portrait (an http(s) URL, 12–256 characters). */
export const setPortraitUri = async (deps: SettingsDeps, callerId: string, input: { groupId: string; portraitUri: string }): Promise<void> => {
  const portraitUri = escapeHtml(input.portraitUri);
  if (!isPortraitUrl(portraitUri)) throw new InvalidInput('portraitUri: Invalid portraitUri format.');
  const length = codePointLength(portraitUri);
  if (length < PORTRAIT_URI.min || length > PORTRAIT_URI.max) throw new InvalidInput('portraitUri: Length of portraitUri invalid.');
  await fresh(async () => {
    const group = await liveGroup(deps, input.groupId);
    // The reference's only denial: 400 "Unknown group or not creator." (managers may not either).
    if (group.creatorId !== callerId) throw new InvalidInput(NOT_CREATOR);
    const now = deps.now();
    await deps.settings.updateGroup({
      group,
      operator: { userId: callerId, role: Role.owner },
      settings: { portraitUri },
      now,
      event: domainEvent('GroupPortraitChanged', { groupId: group.id, operatorId: callerId, portraitUri, timestamp: now }),
    });
  });
};

/**
 * POST /group/set_display_name: the caller's own card name in the group (empty allowed). A
 * non-member, an unknown or a dismissed group: 404 "Unknown group." (the reference's one answer).
 */
export const setDisplayName = async (deps: SettingsDeps, callerId: string, input: { groupId: string; displayName: string }): Promise<void> => {
  const displayName = escapeWithin(input.displayName, 0, DISPLAY_NAME_MAX);
  if (displayName === null) throw new InvalidInput('displayName: Length of display name invalid.');
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  const done = await deps.settings.setDisplayName({ groupId: input.groupId, userId: callerId, displayName, now: deps.now() });
  if (!done) throw new NotFound(UNKNOWN_GROUP);
};

/**
 * POST /group/set_certification: 0 = approval needed for invitations by plain members and for joins,
 * 1 = not. The owner or a manager; anyone else: HTTP 200 code 20001 (the reference's answer).
 */
export const setCertification = async (deps: SettingsDeps, callerId: string, input: { groupId: string; certiStatus: 0 | 1 }): Promise<void> => {
  await fresh(async () => {
    const group = await liveGroup(deps, input.groupId);
    const operator = managingOperator(group, callerId);
    if (!operator) throw new Rejected(BusinessCodes.noPermission, 'No permission');
    if (group.certiStatus === input.certiStatus) return;
    await deps.settings.updateGroup({ group, operator, settings: { certiStatus: input.certiStatus }, now: deps.now() });
  });
};

/**
 * POST /group/set_member_protection: the owner or a manager switches member protection. Only a
 * change is written and announced (`MemberProtectionChanged`, the ST:GrpNtf open/close message);
 * setting the value the group already has answers 200 and writes nothing, so of two concurrent
 * identical switches exactly one is announced.
 */
export const setMemberProtection = async (
  deps: SettingsDeps,
  callerId: string,
  input: { groupId: string; memberProtection: 0 | 1 },
): Promise<void> => {
  await fresh(async () => {
    const group = await liveGroup(deps, input.groupId);
    const operator = managingOperator(group, callerId);
    if (!operator) throw new Forbidden(ONLY_MANAGERS_PROTECTION);
    if (group.memberProtection === input.memberProtection) return;
    const now = deps.now();
    await deps.settings.updateGroup({
      group,
      operator,
      settings: { memberProtection: input.memberProtection },
      expected: { memberProtection: group.memberProtection },
      now,
      event: domainEvent('MemberProtectionChanged', {
        groupId: group.id,
        operatorId: callerId,
        memberProtection: input.memberProtection,
        timestamp: now,
      }),
    });
  });
};

export interface SetMemberInfoInput {
  groupId: string;
  memberId: string;
  groupNickname?: string | null | undefined;
  region?: string | null | undefined;
  phone?: string | null | undefined;
  WeChat?: string | null | undefined;
  Alipay?: string | null | undefined;
  memberDesc?: string[] | null | undefined;
}

/**
 * POST /group/set_member_info: the member themself, or the owner or a manager, sets fields of a
 * member's card. Only given (non-null) fields change; a given `groupNickname` (escaped, ≤ 32) also
 * becomes the member's `displayName`. Lengths of the other fields are checked at the boundary.
 */
export const setMemberInfo = async (deps: SettingsDeps, callerId: string, input: SetMemberInfoInput): Promise<void> => {
  const info: MemberInfo = {};
  if (input.groupNickname !== undefined && input.groupNickname !== null) {
    const nickname = escapeWithin(input.groupNickname, 0, DISPLAY_NAME_MAX);
    if (nickname === null) throw new InvalidInput('groupNickname: Length of group nickname invalid.');
    info.groupNickname = nickname;
    info.displayName = nickname;
  }
  for (const key of ['region', 'phone', 'WeChat', 'Alipay'] as const) {
    const value = input[key];
    if (value !== undefined && value !== null) info[key] = value;
  }
  if (input.memberDesc !== undefined && input.memberDesc !== null) info.memberDesc = input.memberDesc;

  await fresh(async () => {
    // One round: the group and the target member are both named by the request.
    const [group, targets] = await Promise.all([liveGroup(deps, input.groupId), deps.settings.members(input.groupId, [input.memberId])]);
    const operator: Operator | null = managingOperator(group, callerId) ?? (callerId === input.memberId ? { userId: callerId, role: 'self' } : null);
    if (!operator) throw new Forbidden(ONLY_MEMBER_INFO);
    const target = targets.get(input.memberId);
    if (!target) throw new InvalidInput(`memberId: ${NOT_GROUP_MEMBER}`);
    if (Object.keys(info).length === 0) return;
    await deps.settings.setMemberInfo({ groupId: group.id, operator, memberId: input.memberId, info, now: deps.now() });
  });
};

export interface MemberInfoView {
  groupNickname: string;
  region: string;
  phone: string;
  WeChat: string;
  Alipay: string;
  memberDesc: string[];
}

/**
 * POST /group/get_member_info: any member of the group may read a member's card (the member detail
 * page of every client calls it). While member protection is on, a plain member reading ANOTHER
 * member gets `phone`, `WeChat` and `Alipay` as "" (hidden); the member themself, the owner and
 * managers see everything. Non-members: 403; a `memberId` who is not a member: 400.
 */
export const getMemberInfo = async (deps: SettingsDeps, callerId: string, input: { groupId: string; memberId: string }): Promise<MemberInfoView> => {
  if (!isPossibleGroupId(input.groupId)) throw new NotFound(UNKNOWN_GROUP);
  const [group, members] = await Promise.all([
    deps.settings.group(input.groupId),
    deps.settings.members(input.groupId, [...new Set([callerId, input.memberId])]),
  ]);
  if (!group || group.status !== 'active') throw new NotFound(UNKNOWN_GROUP);
  const viewer = members.get(callerId);
  if (!viewer) throw new Forbidden(ONLY_MEMBERS_READ_INFO);
  const target = members.get(input.memberId);
  if (!target) throw new InvalidInput(`memberId: ${NOT_GROUP_MEMBER}`);
  const hide = group.memberProtection === 1 && viewer.role === Role.member && target.userId !== callerId;
  return {
    groupNickname: target.groupNickname,
    region: target.region ?? '',
    phone: hide ? '' : (target.phone ?? ''),
    WeChat: hide ? '' : (target.WeChat ?? ''),
    Alipay: hide ? '' : (target.Alipay ?? ''),
    memberDesc: target.memberDesc ?? [],
  };
};
