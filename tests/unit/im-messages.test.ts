import { describe, expect, it } from 'vitest';
import { bulletinMessage, commandMessage, groupApply, groupNotification } from '#lib/im/messages.ts';

/** The IM messages exactly as the real SealTalk Android, iOS and Web clients parse them. */

const parse = (content: string) => JSON.parse(content) as Record<string, unknown>;

describe('ST:GrpNtf', () => {
  it('comes from __system__ to the group, with data a JSON object and its nested copy data.data (iOS, Web)', () => {
    const message = groupNotification('g1', 'alice', 'Create', { operatorNickname: 'Alice', targetGroupName: 'Hikers', timestamp: 1700000000000 });
    expect(message).toMatchObject({ fromUserId: '__system__', toGroupId: 'g1', objectName: 'ST:GrpNtf' });
    const content = parse(message.content);
    const data = { operatorNickname: 'Alice', targetGroupName: 'Hikers', timestamp: 1700000000000 };
    expect(content).toEqual({ operatorUserId: 'alice', operation: 'Create', data: { ...data, data }, message: '' });
    expect(typeof content.data).toBe('object');
  });

  it('carries targetUserDisplayNames wherever it carries targetUserIds (Android renders from them)', () => {
    const data = { operatorNickname: 'Alice', targetUserIds: ['bob', 'carol'], targetUserDisplayNames: ['Bob', ''], timestamp: 1 };
    const content = parse(groupNotification('g1', 'alice', 'Kicked', data).content) as { data: Record<string, unknown> & { data: unknown } };
    expect(content.data.targetUserIds).toEqual(['bob', 'carol']);
    expect(content.data.targetUserDisplayNames).toEqual(['Bob', '']);
    expect(content.data.data).toEqual(data);
  });
});

describe('ST:GrpApply', () => {
  it('is a private message from __group_apply__ to the recipients, operation Invite, with numeric status and type', () => {
    const message = groupApply('alice', ['carol', 'dave'], {
      operatorNickname: 'Alice',
      targetGroupId: 'g1',
      targetGroupName: 'Hikers',
      status: 2,
      type: 1,
      timestamp: 5,
    });
    expect(message).toMatchObject({ fromUserId: '__group_apply__', toUserIds: ['carol', 'dave'], objectName: 'ST:GrpApply' });
    expect(parse(message.content)).toEqual({
      operatorUserId: 'alice',
      operation: 'Invite',
      data: { operatorNickname: 'Alice', targetGroupId: 'g1', targetGroupName: 'Hikers', status: 2, type: 1, timestamp: 5 },
    });
  });
});

describe('messages from the operator', () => {
  it('ST:MsgClear carries clearTime as a number of ms (Android optLong, iOS longLongValue)', () => {
    const message = commandMessage('g1', 'owner', 'ST:MsgClear', 'clearGroupMsg', 1700000000123);
    expect(message).toMatchObject({ fromUserId: 'owner', toGroupId: 'g1', objectName: 'ST:MsgClear', isIncludeSender: 1, isMentioned: 0 });
    expect(parse(message.content)).toEqual({ operatorUserId: 'owner', operation: 'clearGroupMsg', clearTime: 1700000000123 });
  });

  it('ST:ConNtf and the member-protection ST:GrpNtf carry only operatorUserId and operation', () => {
    expect(parse(commandMessage('g1', 'owner', 'ST:ConNtf', 'openRegularClear').content)).toEqual({ operatorUserId: 'owner', operation: 'openRegularClear' });
    expect(parse(commandMessage('g1', 'mgr', 'ST:GrpNtf', 'closeMemberProtection').content)).toEqual({
      operatorUserId: 'mgr',
      operation: 'closeMemberProtection',
    });
  });

  it('the bulletin is RC:TxtMsg "@所有人 " + text mentioning everyone, sent by the operator to themself too', () => {
    const message = bulletinMessage('g1', 'owner', 'Meet at 9');
    expect(message).toMatchObject({ fromUserId: 'owner', toGroupId: 'g1', objectName: 'RC:TxtMsg', isMentioned: 1, isIncludeSender: 1 });
    expect(parse(message.content)).toEqual({ content: '@所有人 Meet at 9', mentionedInfo: { type: 1, userIdList: ['All'] } });
  });
});
