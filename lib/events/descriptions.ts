import type { EventDetail, EventType } from './index.ts';

/**
 * The descriptions of the event fields in the published JSON Schemas (docs/events/, the schema
 * registry): lib/events/json-schema.ts puts them on the zod schemas of lib/events/index.ts when it
 * generates them. Kept apart from the schemas, so the Lambdas that validate events do not bundle
 * them.
 */

/** Fields every event has. */
export const COMMON_DESCRIPTIONS = {
  groupId: 'The group (a SealTalk group id).',
  timestamp: 'When the change was committed (epoch ms).',
} as const;

export const EVENT_ID_DESCRIPTION = 'Unique per event and stable across redeliveries: deduplicate on it.';

/** The other fields, by event. */
export const FIELD_DESCRIPTIONS: { readonly [T in EventType]: { readonly [K in keyof EventDetail<T>]?: string } } = {
  GroupCreated: {
    operatorId: 'Who created the group: its owner.',
    name: 'The group name (HTML-escaped, as stored).',
    memberIds: 'Members who joined at creation, the owner included (invitees are not members yet).',
  },
  GroupInvited: {
    requesterId: 'Who invited (or asked to join).',
    receiverIds: 'The users the invitations are about.',
    recipientIds: 'Who must answer: the invitees (type 1) or the owner and managers (type 2).',
    noticeType: '1: the invitee must consent; 2: a manager must approve.',
    status: '2: waiting.',
  },
  GroupRenamed: {
    operatorId: 'Who renamed the group.',
    name: 'The new name (HTML-escaped, as stored).',
  },
  MembersJoined: {
    operatorId: 'Who added them (themself for a join; the original inviter for an agreed invitation).',
    memberIds: 'The new members.',
  },
  MembersKicked: {
    operatorId: 'The owner or manager who kicked them.',
    memberIds: 'The kicked members.',
  },
  MemberQuit: {
    userId: 'Who quit.',
    newOwnerId: 'The new owner when the owner quit and others remain, else null.',
  },
  GroupDismissed: {
    operatorId: 'Who dismissed it.',
    whitelistIds: 'The owner and managers at dismissal (their mute-whitelist entries are rolled back).',
  },
  OwnerTransferred: {
    operatorId: 'The previous owner (now a plain member).',
    newOwnerId: 'The new owner.',
  },
  ManagersSet: {
    operatorId: 'The owner.',
    memberIds: 'The new managers.',
  },
  ManagersRemoved: {
    operatorId: 'The owner.',
    memberIds: 'The former managers.',
  },
  InvitationAnswered: {
    operatorId: 'Who answered: the invitee (type 1) or an owner/manager (type 2).',
    receiverId: 'The user the notice is about.',
    status: '1 agreed, 0 ignored.',
  },
  NoticesExpired: {
    operatorId: 'Who dismissed the group.',
    recipientIds: 'The viewers of the expired notices.',
  },
  BulletinPublished: {
    operatorId: 'The owner or manager who published it.',
    bulletinId: 'The per-group bulletin counter.',
    content: 'The bulletin (HTML-escaped, as stored); may be empty.',
  },
  GroupPortraitChanged: {
    operatorId: 'The owner.',
  },
  GroupMuteChanged: {
    operatorId: 'The owner or manager who switched it.',
    muteStatus: '1 muted, 0 not.',
    whitelistIds: 'Whose mute-whitelist entry the change concerns: owner, managers, the members named now and those named before.',
  },
  RegularClearChanged: {
    operatorId: 'The owner.',
    clearStatus: '0 off; 3 or 7 days; 36 hours.',
  },
  MemberProtectionChanged: {
    operatorId: 'The owner or manager who switched it.',
  },
  GroupMessagesCleared: {
    operatorId: 'The owner: ST:MsgClear comes from them.',
    clearStatus: 'The retention: 3 or 7 days; 36 hours.',
    clearTime: 'The cutoff (epoch ms): messages before it were cleared.',
    runId: 'The regular-clear run.',
    members: 'How many members had their history cleaned (one RongCloud call each).',
  },
};
