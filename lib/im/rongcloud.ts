import type { CallOptions, Form, ImTransport } from './client.ts';

/**
 * The RongCloud server API calls the service makes, one function each, over an {@link ImTransport}.
 * Calls over RongCloud's per-call limits are split into several calls, sent one after another; when
 * one part fails the error propagates and the caller retries the whole operation, which is safe:
 * create overwrites, join/quit/whitelist add and remove are idempotent on RongCloud's side.
 */

/** Per-call limits of the RongCloud server API. */
export const LIMITS = {
  /** `userId` values per /group/create.json, /group/join.json, /group/quit.json. */
  groupUsers: 1000,
  /** `userId` values per /group/user/ban/whitelist/add.json and /rollback.json. */
  whitelistUsers: 20,
  /** `toUserId` values per /message/private/publish.json. */
  privateRecipients: 1000,
  /** `toUserId` values per /message/system/publish.json. */
  systemRecipients: 100,
} as const;

export const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
};

type Flag = 0 | 1;

export interface GroupMessage {
  fromUserId: string;
  toGroupId: string;
  objectName: string;
  /** The message content, JSON-encoded. */
  content: string;
  isIncludeSender?: Flag;
  isMentioned?: Flag;
  isPersisted?: Flag;
  pushContent?: string;
}

export interface PrivateMessage {
  fromUserId: string;
  toUserIds: readonly string[];
  objectName: string;
  /** The message content, JSON-encoded. */
  content: string;
  isIncludeSender?: Flag;
  isPersisted?: Flag;
  pushContent?: string;
}

export interface RongCloudApi {
  /** /group/create.json; over 1000 users: create with the first 1000, then join the rest 1000 at a time. */
  createGroup(groupId: string, groupName: string, userIds: readonly string[], options?: CallOptions): Promise<void>;
  /** /group/join.json, 1000 users per call. No call for an empty list. */
  joinGroup(groupId: string, groupName: string, userIds: readonly string[], options?: CallOptions): Promise<void>;
  /** /group/quit.json, 1000 users per call. No call for an empty list. */
  quitGroup(groupId: string, userIds: readonly string[], options?: CallOptions): Promise<void>;
  /** /group/dismiss.json by `operatorId`. */
  dismissGroup(groupId: string, operatorId: string, options?: CallOptions): Promise<void>;
  /** /group/refresh.json: the group's name. */
  refreshGroup(groupId: string, groupName: string, options?: CallOptions): Promise<void>;
  /** /group/ban/add.json: mute the whole group. */
  banGroup(groupId: string, options?: CallOptions): Promise<void>;
  /** /group/ban/rollback.json. */
  unbanGroup(groupId: string, options?: CallOptions): Promise<void>;
  /** /group/user/ban/whitelist/add.json, 20 users per call. No call for an empty list. */
  addWhitelist(groupId: string, userIds: readonly string[], options?: CallOptions): Promise<void>;
  /** /group/user/ban/whitelist/rollback.json, 20 users per call. No call for an empty list. */
  removeWhitelist(groupId: string, userIds: readonly string[], options?: CallOptions): Promise<void>;
  /** /message/group/publish.json. */
  publishGroupMessage(message: GroupMessage, options?: CallOptions): Promise<void>;
  /** /message/private/publish.json, 1000 recipients per call. No call without recipients. */
  publishPrivateMessage(message: PrivateMessage, options?: CallOptions): Promise<void>;
  /** /conversation/message/history/clean.json: `userId`'s history of the group before `beforeMs`. */
  cleanGroupHistory(groupId: string, userId: string, beforeMs: number, options?: CallOptions): Promise<void>;
}

export const createRongCloudApi = (transport: ImTransport): RongCloudApi => {
  const post = async (path: string, form: Form, options?: CallOptions): Promise<void> => {
    await transport.call(path, form, options);
  };

  /** One call per chunk of `values` (sent as `key`), in order. */
  const inChunks = async (
    path: string,
    key: string,
    values: readonly string[],
    size: number,
    form: Form,
    options?: CallOptions,
  ): Promise<void> => {
    for (const part of chunk(values, size)) await post(path, { ...form, [key]: part }, options);
  };

  const joinGroup: RongCloudApi['joinGroup'] = (groupId, groupName, userIds, options) =>
    inChunks('/group/join.json', 'userId', userIds, LIMITS.groupUsers, { groupId, groupName }, options);

  return {
    createGroup: async (groupId, groupName, userIds, options) => {
      await post('/group/create.json', { userId: userIds.slice(0, LIMITS.groupUsers), groupId, groupName }, options);
      await joinGroup(groupId, groupName, userIds.slice(LIMITS.groupUsers), options);
    },
    joinGroup,
    quitGroup: (groupId, userIds, options) =>
      inChunks('/group/quit.json', 'userId', userIds, LIMITS.groupUsers, { groupId }, options),
    dismissGroup: (groupId, operatorId, options) => post('/group/dismiss.json', { userId: operatorId, groupId }, options),
    refreshGroup: (groupId, groupName, options) => post('/group/refresh.json', { groupId, groupName }, options),
    banGroup: (groupId, options) => post('/group/ban/add.json', { groupId }, options),
    unbanGroup: (groupId, options) => post('/group/ban/rollback.json', { groupId }, options),
    addWhitelist: (groupId, userIds, options) =>
      inChunks('/group/user/ban/whitelist/add.json', 'userId', userIds, LIMITS.whitelistUsers, { groupId }, options),
    removeWhitelist: (groupId, userIds, options) =>
      inChunks('/group/user/ban/whitelist/rollback.json', 'userId', userIds, LIMITS.whitelistUsers, { groupId }, options),
    publishGroupMessage: (message, options) =>
      post(
        '/message/group/publish.json',
        {
          fromUserId: message.fromUserId,
          toGroupId: message.toGroupId,
          objectName: message.objectName,
          content: message.content,
          pushContent: message.pushContent,
          isIncludeSender: message.isIncludeSender,
          isMentioned: message.isMentioned,
          isPersisted: message.isPersisted,
        },
        options,
      ),
    publishPrivateMessage: (message, options) =>
      inChunks(
        '/message/private/publish.json',
        'toUserId',
        message.toUserIds,
        LIMITS.privateRecipients,
        {
          fromUserId: message.fromUserId,
          objectName: message.objectName,
          content: message.content,
          pushContent: message.pushContent,
          isIncludeSender: message.isIncludeSender,
          isPersisted: message.isPersisted,
        },
        options,
      ),
    cleanGroupHistory: (groupId, userId, beforeMs, options) =>
      post(
        '/conversation/message/history/clean.json',
        { conversationType: 3, fromUserId: userId, targetId: groupId, msgTimestamp: beforeMs },
        options,
      ),
  };
};
