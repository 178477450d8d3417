import type { GroupRepository, MemberRepository, UserRepository } from '../domain/ports.ts';
import { busDetailSchema, type BusDetail, type EventType } from '../events/index.ts';
import type { DeliveryLedger } from '../store/deliveries.ts';
import type { ImMirrorStore } from '../store/im-mirror.ts';
import { bulletinMessage, commandMessage, groupApply, groupNotification, type GroupOperation } from './messages.ts';
import { ensureGroup, syncUsers, syncWhitelist, type SyncDeps } from './sync.ts';

/**
 * What the IM system must hear about each domain event: the RongCloud calls and the IM messages
 * SealTalk clients render, in the reference's order (create the IM group, then announce it; tell
 * leavers before they leave). Every event type has a plan, so a new event cannot be forgotten.
 *
 * Each plan is a sequence of named steps. A step runs once per event: the ledger records it as done
 * right after its call succeeded, and a redelivered event skips it. Membership steps converge IM to
 * the table (lib/im/sync.ts) instead of replaying the event, so order of delivery does not matter.
 */

export const NOTIFIER = 'notifier';

export interface NotifierDeps extends SyncDeps {
  groups: Pick<GroupRepository, 'get'>;
  members: Pick<MemberRepository, 'list' | 'currentAmong'>;
  users: UserRepository;
  mirror: ImMirrorStore;
  ledger: DeliveryLedger;
  /** How long a delivery holds its lease (longer than one invocation may run). */
  leaseMs: number;
}

type Step = (name: string, run: () => Promise<unknown>) => Promise<void>;
type Plan<T extends EventType> = (detail: BusDetail<T>, step: Step, deps: NotifierDeps) => Promise<void>;

const nicknameOf = async (deps: NotifierDeps, userId: string): Promise<string> =>
  (await deps.users.getProfiles([userId])).get(userId)?.nickname ?? '';

/** The operator's nickname and the targets' ids with their nicknames, in the same order. */
const namesOf = async (deps: NotifierDeps, operatorId: string, targetIds: readonly string[]) => {
  const profiles = await deps.users.getProfiles([operatorId, ...targetIds]);
  return {
    operatorNickname: profiles.get(operatorId)?.nickname ?? '',
    targetUserIds: [...targetIds],
    targetUserDisplayNames: targetIds.map((id) => profiles.get(id)?.nickname ?? ''),
  };
};

/** ST:GrpNtf about members (`targetUserIds` with `targetUserDisplayNames`), from __system__. */
const announceMembers = async (
  deps: NotifierDeps,
  e: { groupId: string; operatorId: string; timestamp: number },
  operation: GroupOperation,
  targetIds: readonly string[],
  extra: { newCreatorId?: string | null; operatorId?: string } = {},
) => {
  const names = await namesOf(deps, e.operatorId, targetIds);
  await deps.im.publishGroupMessage(groupNotification(e.groupId, e.operatorId, operation, { ...names, ...extra, timestamp: e.timestamp }));
};

/** ST:GrpApply to `recipients`, about the live group (its name, or "" when it is gone). */
const applyMessage = async (
  deps: NotifierDeps,
  e: { groupId: string; timestamp: number },
  requesterId: string,
  recipients: readonly string[],
  type: number,
  status: number,
) => {
  const [operatorNickname, group] = await Promise.all([nicknameOf(deps, requesterId), deps.groups.get(e.groupId)]);
  await deps.im.publishPrivateMessage(
    groupApply(requesterId, recipients, {
      operatorNickname,
      targetGroupId: e.groupId,
      targetGroupName: group && group.status === 'active' ? group.name : '',
      status,
      type,
      timestamp: e.timestamp,
    }),
  );
};

const plans: { [T in EventType]: Plan<T> } = {
  GroupCreated: async (e, step, deps) => {
    await step('im', () => ensureGroup(deps, e.groupId));
    const operatorNickname = await nicknameOf(deps, e.operatorId);
    await step('notify', () =>
      deps.im.publishGroupMessage(
        groupNotification(e.groupId, e.operatorId, 'Create', { operatorNickname, targetGroupName: e.name, timestamp: e.timestamp }),
      ),
    );
  },

  GroupInvited: async (e, step, deps) => {
    await step('apply', () => applyMessage(deps, e, e.requesterId, e.recipientIds, e.noticeType, e.status));
  },

  GroupRenamed: async (e, step, deps) => {
    // Refreshes the IM name to the table's current one (or creates the IM group if its creation
    // has not been processed yet).
    await step('im', () => ensureGroup(deps, e.groupId));
    const operatorNickname = await nicknameOf(deps, e.operatorId);
    await step('notify', () =>
      deps.im.publishGroupMessage(
        groupNotification(e.groupId, e.operatorId, 'Rename', { operatorNickname, targetGroupName: e.name, timestamp: e.timestamp }),
      ),
    );
  },

  MembersJoined: async (e, step, deps) => {
    // In the IM group first, so the new members receive their own Add notification.
    await step('im', () => syncUsers(deps, e.groupId, e.memberIds));
    await step('notify', () => announceMembers(deps, e, 'Add', e.memberIds));
  },

  MembersKicked: async (e, step, deps) => {
    // Told before they leave the IM group, so the kicked receive it too.
    await step('notify', () => announceMembers(deps, e, 'Kicked', e.memberIds));
    await step('im', () => syncUsers(deps, e.groupId, e.memberIds));
    // RongCloud keeps whitelist entries across leave and rejoin: a kicked speaker loses theirs.
    await step('whitelist', () => syncWhitelist(deps, e.groupId, e.memberIds));
  },

  MemberQuit: async (e, step, deps) => {
    await step('notify', () => announceMembers(deps, { ...e, operatorId: e.userId }, 'Quit', [e.userId], { newCreatorId: e.newOwnerId }));
    await step('im', () => syncUsers(deps, e.groupId, [e.userId]));
    await step('whitelist', () => syncWhitelist(deps, e.groupId, e.newOwnerId ? [e.userId, e.newOwnerId] : [e.userId]));
  },

  GroupDismissed: async (e, step, deps) => {
    const operatorNickname = await nicknameOf(deps, e.operatorId);
    await step('notify', () =>
      deps.im.publishGroupMessage(groupNotification(e.groupId, e.operatorId, 'Dismiss', { operatorNickname, timestamp: e.timestamp })),
    );
    await step('im', () => deps.im.dismissGroup(e.groupId, e.operatorId));
    // Mute state survives dismissal at RongCloud (and a re-created group with the same id).
    await step('unban', () => deps.im.unbanGroup(e.groupId));
    await step('whitelist', () => deps.im.removeWhitelist(e.groupId, e.whitelistIds));
  },

  OwnerTransferred: async (e, step, deps) => {
    await step('notify', () => announceMembers(deps, e, 'Transfer', [e.newOwnerId], { operatorId: e.operatorId }));
    await step('whitelist', () => syncWhitelist(deps, e.groupId, [e.operatorId, e.newOwnerId]));
  },

  ManagersSet: async (e, step, deps) => {
    await step('notify', () => announceMembers(deps, e, 'SetManager', e.memberIds, { operatorId: e.operatorId }));
    await step('whitelist', () => syncWhitelist(deps, e.groupId, e.memberIds));
  },

  ManagersRemoved: async (e, step, deps) => {
    await step('notify', () => announceMembers(deps, e, 'RemoveManager', e.memberIds, { operatorId: e.operatorId }));
    await step('whitelist', () => syncWhitelist(deps, e.groupId, e.memberIds));
  },

  InvitationAnswered: async (e, step, deps) => {
    // The confirmation the reference sends to whoever answered.
    await step('apply', () => applyMessage(deps, e, e.operatorId, [e.operatorId], e.noticeType, e.status));
  },

  NoticesExpired: async (e, step, deps) => {
    await step('apply', () => applyMessage(deps, e, e.operatorId, e.recipientIds, 0, 3));
  },

  BulletinPublished: async (e, step, deps) => {
    if (e.content === '') return;
    await step('notify', () => deps.im.publishGroupMessage(bulletinMessage(e.groupId, e.operatorId, e.content)));
  },

  GroupPortraitChanged: async (e, step, deps) => {
    // RongCloud's group info is its name: refreshed (or the group created) from the table's state.
    await step('im', () => ensureGroup(deps, e.groupId, { refresh: true }));
  },

  GroupMuteChanged: async (e, step, deps) => {
    // The table decides, not the event: a mute and an unmute delivered out of order end in the
    // group's current state. Muted: ban, then who may speak (owner, managers, the named members);
    // not muted: lift the ban and roll back everyone this change named as well.
    const group = await deps.groups.get(e.groupId);
    if (!group || group.status !== 'active') return;
    const speakers = [...new Set([group.creatorId, ...group.managerIds, ...group.muteWhitelist])];
    if (group.isMute === 1) {
      await step('ban', () => deps.im.banGroup(e.groupId));
      await step('whitelist', () => deps.im.addWhitelist(e.groupId, speakers));
      // Everyone else loses any entry: speakers named by an earlier mute and not any more, and
      // members whose role ended while the group was not muted (RongCloud keeps entries across an
      // unmute, and the ManagersRemoved or OwnerTransferred that found the group unmuted skipped them).
      const members = (await deps.members.list(e.groupId)).map((m) => m.userId);
      const dropped = [...new Set([...e.whitelistIds, ...members])].filter((id) => !speakers.includes(id));
      if (dropped.length > 0) await step('revoke', () => deps.im.removeWhitelist(e.groupId, dropped));
    } else {
      await step('ban', () => deps.im.unbanGroup(e.groupId));
      await step('whitelist', () => deps.im.removeWhitelist(e.groupId, [...new Set([...e.whitelistIds, ...speakers])]));
    }
  },

  RegularClearChanged: async (e, step, deps) => {
    const operation = e.clearStatus === 0 ? 'closeRegularClear' : 'openRegularClear';
    await step('notify', () => deps.im.publishGroupMessage(commandMessage(e.groupId, e.operatorId, 'ST:ConNtf', operation)));
  },

  MemberProtectionChanged: async (e, step, deps) => {
    const operation = e.memberProtection === 1 ? 'openMemberProtection' : 'closeMemberProtection';
    await step('notify', () => deps.im.publishGroupMessage(commandMessage(e.groupId, e.operatorId, 'ST:GrpNtf', operation)));
  },

  GroupMessagesCleared: async (e, step, deps) => {
    await step('notify', () => deps.im.publishGroupMessage(commandMessage(e.groupId, e.operatorId, 'ST:MsgClear', 'clearGroupMsg', e.clearTime)));
  },
};

/** An event the notifier cannot handle, now or ever: it goes to the dead-letter queue. */
export class UnprocessableEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnprocessableEvent';
  }
}

const isEventType = (name: string): name is EventType => Object.hasOwn(plans, name);

/** Performs the IM side of one bus event (`detail-type`, `detail`), at most once per step. */
export const notify = async (deps: NotifierDeps, detailType: string, rawDetail: unknown): Promise<'done' | 'duplicate'> => {
  if (!isEventType(detailType)) throw new UnprocessableEvent(`unknown event type ${detailType}`);
  const parsed = busDetailSchema(detailType).safeParse(rawDetail);
  if (!parsed.success) throw new UnprocessableEvent(`invalid ${detailType}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const detail = parsed.data;

  const delivery = await deps.ledger.begin(detail.eventId, NOTIFIER, deps.leaseMs);
  if (delivery.done) return 'duplicate';
  const step: Step = async (name, run) => {
    if (delivery.hasDone(name)) return;
    await run();
    await delivery.markDone(name);
  };
  try {
    await (plans[detailType] as Plan<EventType>)(detail as BusDetail<EventType>, step, deps);
  } catch (error) {
    await delivery.release().catch((releaseError: unknown) => deps.log.warn('lease not released', { error: releaseError }));
    throw error;
  }
  await delivery.finish();
  return 'done';
};
