/**
 * The IM messages SealTalk clients render, built exactly as the real Android, iOS and Web clients
 * parse them (see docs/im-messages.md). Every id inside a message is the id the REST API uses.
 *
 * - `ST:GrpNtf` from `__system__` to the group: `data` is a JSON OBJECT (iOS crashes on a string)
 *   with a nested copy in `data.data` (Web reads `content.data.data.*`).
 * - `ST:GrpApply` from `__group_apply__` as a private message to the invitees or managers.
 * - `ST:ConNtf`, `ST:MsgClear` and the member-protection `ST:GrpNtf` from the operator.
 * - The bulletin: `RC:TxtMsg` "@所有人 …" mentioning everyone, from the operator.
 */

import type { GroupMessage, PrivateMessage } from './rongcloud.ts';

export const SYSTEM_SENDER = '__system__';
export const GROUP_APPLY_SENDER = '__group_apply__';

/** ST:GrpNtf operations sent with a `data` object. */
export type GroupOperation =
  | 'Create'
  | 'Add'
  | 'Quit'
  | 'Kicked'
  | 'Dismiss'
  | 'Rename'
  | 'Transfer'
  | 'SetManager'
  | 'RemoveManager';

/** The `data` of ST:GrpNtf. Wherever `targetUserIds` is sent, `targetUserDisplayNames` is too. */
export type GroupNotificationData = {
  operatorNickname: string;
  timestamp: number;
  targetGroupName?: string;
  newCreatorId?: string | null;
  operatorId?: string;
} & ({ targetUserIds?: undefined; targetUserDisplayNames?: undefined } | { targetUserIds: string[]; targetUserDisplayNames: string[] });

/** ST:GrpNtf: a group operation, from `__system__`, with `data` and its nested copy `data.data`. */
export const groupNotification = (
  groupId: string,
  operatorUserId: string,
  operation: GroupOperation,
  data: GroupNotificationData,
): GroupMessage => {
  const fields = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  return {
    fromUserId: SYSTEM_SENDER,
    toGroupId: groupId,
    objectName: 'ST:GrpNtf',
    content: JSON.stringify({ operatorUserId, operation, data: { ...fields, data: { ...fields } }, message: '' }),
  };
};

export interface GroupApplyData {
  operatorNickname: string;
  targetGroupId: string;
  /** The live group's name, or '' when it is gone. */
  targetGroupName: string;
  /** Notice status: 2 waiting. */
  status: number;
  /** Notice type: 1 for the invitee, 2 for managers. */
  type: number;
  timestamp: number;
}

/** ST:GrpApply: an invitation or join request, a private message from `__group_apply__`. */
export const groupApply = (requesterId: string, recipientIds: readonly string[], data: GroupApplyData): PrivateMessage => ({
  fromUserId: GROUP_APPLY_SENDER,
  toUserIds: recipientIds,
  objectName: 'ST:GrpApply',
  content: JSON.stringify({ operatorUserId: requesterId, operation: 'Invite', data }),
});

/**
 * A command message from the operator (`isIncludeSender` 1): `ST:ConNtf` open/closeRegularClear,
 * `ST:GrpNtf` open/closeMemberProtection (no `data`), `ST:MsgClear` clearGroupMsg with `clearTime`
 * as a NUMBER of ms (Android reads it with optLong, iOS with longLongValue).
 */
export const commandMessage = (
  groupId: string,
  operatorUserId: string,
  objectName: 'ST:ConNtf' | 'ST:GrpNtf' | 'ST:MsgClear',
  operation: string,
  clearTime?: number,
): GroupMessage => ({
  fromUserId: operatorUserId,
  toGroupId: groupId,
  objectName,
  content: JSON.stringify({ operatorUserId, operation, ...(clearTime === undefined ? {} : { clearTime }) }),
  isIncludeSender: 1,
  isMentioned: 0,
});

/** The bulletin: "@所有人 " + text as `RC:TxtMsg` mentioning everyone, from the operator. */
export const bulletinMessage = (groupId: string, operatorUserId: string, text: string): GroupMessage => ({
  fromUserId: operatorUserId,
  toGroupId: groupId,
  objectName: 'RC:TxtMsg',
  content: JSON.stringify({ content: `@所有人 ${text}`, mentionedInfo: { type: 1, userIdList: ['All'] } }),
  isIncludeSender: 1,
  isMentioned: 1,
});
