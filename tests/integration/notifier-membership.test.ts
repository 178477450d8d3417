import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaContext } from '#infra/local/gateway.ts';
import { domainEvent, EVENT_SOURCE, type EventDetail, type EventType } from '#lib/events/index.ts';
import { Role } from '#lib/domain/model.ts';
import { memberToItem } from '#lib/store/items.ts';
import { keys } from '#lib/store/keys.ts';
import { db, patch, tableName } from '#tests/helpers/db.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { startFakeRongCloud, type FakeRongCloud, type RecordedCall } from '#tests/helpers/fake-rongcloud.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { outboxEnvelopes, sqsEvent, sqsRecord, type Envelope } from '#tests/helpers/outbox.ts';
import { concerns, useOwnTable } from '#tests/helpers/pipeline.ts';

/**
 * The IM side of every membership event, as the reference orders it and the clients parse it:
 * joiners are in the IM group before the Add notification; leavers are told before they leave;
 * dismissal rolls back the mute state; while muted, the whitelist follows the owner and managers.
 */

type Handler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;
let fake: FakeRongCloud;
let handler: Handler;

beforeAll(async () => {
  await useOwnTable();
  fake = await startFakeRongCloud();
  Object.assign(process.env, { RONGCLOUD_APP_KEY: fake.appKey, RONGCLOUD_APP_SECRET: fake.appSecret, RONGCLOUD_API_URL: fake.url });
  handler = ((await import('#functions/notifier.ts')) as { handler: Handler }).handler;
});
afterAll(() => fake?.close());

const deliver = async (...envelopes: Envelope[]) =>
  expect(await handler(sqsEvent(...envelopes.map((e) => sqsRecord(e))), lambdaContext('notifier', 30_000))).toEqual({ batchItemFailures: [] });

const envelope = <T extends EventType>(type: T, detail: EventDetail<T>): Envelope => {
  const { detail: checked } = domainEvent(type, detail);
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': type,
    source: EVENT_SOURCE,
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { ...(checked as Record<string, unknown>), eventId: randomUUID() },
  };
};

const content = (call: RecordedCall) => JSON.parse(call.form.get('content') ?? '{}') as { operation?: string; data?: Record<string, unknown> } & Record<string, unknown>;
const summary = (call: RecordedCall) => `${call.path}${call.form.get('objectName') ? ` ${call.form.get('objectName')} ${content(call).operation}` : ''}`;
/** The calls about `groupId` after its creation reached IM (the first two: create.json and Create). */
const callsFor = (groupId: string) => fake.calls.filter((c) => concerns(c, groupId)).slice(2);

/** A group created in IM with owner Olive and member Bob (nicknames set), ready for membership events. */
const liveGroup = async () => {
  const [owner, bob] = [uniqueUserId('olive'), uniqueUserId('bob')];
  await api.userGroups({ sub: bob, name: 'Bob' });
  const groupId = await createGroup({ sub: owner, name: 'Olive' }, [bob], 'Team');
  await deliver(...(await outboxEnvelopes(groupId)));
  expect(fake.calls.filter((c) => concerns(c, groupId))).toHaveLength(2);
  return { owner, bob, groupId };
};

const addMember = (groupId: string, userId: string, role: Role = Role.member) => {
  const now = Date.now();
  return db.send(
    new PutCommand({
      TableName: tableName(),
      Item: memberToItem({ groupId, userId, role, displayName: '', groupNickname: '', createdAt: now, updatedAt: now, timestamp: now }),
    }),
  );
};
const removeMember = (groupId: string, userId: string) => db.send(new DeleteCommand({ TableName: tableName(), Key: keys.member(groupId, userId) }));

describe('IM side of membership events', () => {
  it('MembersJoined: joins the IM group first, then ST:GrpNtf Add with targetUserIds and targetUserDisplayNames', async () => {
    const { owner, groupId } = await liveGroup();
    const carol = uniqueUserId('carol');
    await api.userGroups({ sub: carol, name: 'Carol' });
    await addMember(groupId, carol);
    await deliver(envelope('MembersJoined', { groupId, operatorId: owner, memberIds: [carol], timestamp: 1 }));
    const calls = callsFor(groupId);
    expect(calls.map(summary)).toEqual(['/group/join.json', '/message/group/publish.json ST:GrpNtf Add']);
    expect(calls[0]!.form.getAll('userId')).toEqual([carol]);
    const data = { operatorNickname: 'Olive', targetUserIds: [carol], targetUserDisplayNames: ['Carol'], timestamp: 1 };
    expect(content(calls[1]!)).toEqual({ operatorUserId: owner, operation: 'Add', data: { ...data, data }, message: '' });
    expect(fake.groups.get(groupId)?.members.has(carol)).toBe(true);
  });

  it('MembersKicked: tells the group (the kicked included) before they leave the IM group', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await removeMember(groupId, bob);
    await deliver(envelope('MembersKicked', { groupId, operatorId: owner, memberIds: [bob], timestamp: 2 }));
    const calls = callsFor(groupId);
    expect(calls.map(summary)).toEqual(['/message/group/publish.json ST:GrpNtf Kicked', '/group/quit.json']);
    expect(content(calls[0]!).data).toMatchObject({ operatorNickname: 'Olive', targetUserIds: [bob], targetUserDisplayNames: ['Bob'] });
    expect(fake.groups.get(groupId)?.members.has(bob)).toBe(false);
  });

  it('MembersKicked while muted: the kicked speaker also leaves the mute whitelist (RongCloud keeps it across rejoin)', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await patch(keys.group(groupId), { isMute: 1, muteWhitelist: [bob] });
    await removeMember(groupId, bob);
    await deliver(envelope('MembersKicked', { groupId, operatorId: owner, memberIds: [bob], timestamp: 40 }));
    const calls = callsFor(groupId);
    expect(calls.map(summary)).toEqual(['/message/group/publish.json ST:GrpNtf Kicked', '/group/quit.json', '/group/user/ban/whitelist/rollback.json']);
    expect(calls[2]!.form.getAll('userId')).toEqual([bob]);
  });

  it('MembersJoined delivered after the kick that followed it leaves the user out (IM follows the table)', async () => {
    const { owner, groupId } = await liveGroup();
    const dave = uniqueUserId('dave');
    await addMember(groupId, dave);
    const joined = envelope('MembersJoined', { groupId, operatorId: owner, memberIds: [dave], timestamp: 3 });
    await removeMember(groupId, dave);
    await deliver(envelope('MembersKicked', { groupId, operatorId: owner, memberIds: [dave], timestamp: 4 }));
    await deliver(joined);
    expect(fake.groups.get(groupId)?.members.has(dave)).toBe(false);
  });

  it('MemberQuit of the owner: ST:GrpNtf Quit from the quitter with newCreatorId, then IM quit', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await removeMember(groupId, owner);
    await patch(keys.member(groupId, bob), { role: Role.owner });
    await patch(keys.group(groupId), { creatorId: bob });
    await deliver(envelope('MemberQuit', { groupId, userId: owner, newOwnerId: bob, timestamp: 5 }));
    const calls = callsFor(groupId);
    expect(calls.map(summary)).toEqual(['/message/group/publish.json ST:GrpNtf Quit', '/group/quit.json']);
    const data = { operatorNickname: 'Olive', targetUserIds: [owner], targetUserDisplayNames: ['Olive'], newCreatorId: bob, timestamp: 5 };
    expect(content(calls[0]!)).toEqual({ operatorUserId: owner, operation: 'Quit', data: { ...data, data }, message: '' });
  });

  it('GroupDismissed: ST:GrpNtf Dismiss, then IM dismiss, then the ban and the whitelist rolled back', async () => {
    const { owner, groupId } = await liveGroup();
    await patch(keys.group(groupId), { status: 'dismissed', deletedAt: new Date().toISOString(), memberCount: 0 });
    await deliver(envelope('GroupDismissed', { groupId, operatorId: owner, whitelistIds: [owner], timestamp: 6 }));
    const calls = callsFor(groupId);
    expect(calls.map(summary)).toEqual([
      '/message/group/publish.json ST:GrpNtf Dismiss',
      '/group/dismiss.json',
      '/group/ban/rollback.json',
      '/group/user/ban/whitelist/rollback.json',
    ]);
    expect(content(calls[0]!).data).toEqual({ operatorNickname: 'Olive', timestamp: 6, data: { operatorNickname: 'Olive', timestamp: 6 } });
    expect(calls[1]!.form.get('userId')).toBe(owner);
    expect(calls[3]!.form.getAll('userId')).toEqual([owner]);
    expect(fake.groups.has(groupId)).toBe(false);
  });

  it('OwnerTransferred while muted: ST:GrpNtf Transfer, and the whitelist moves from the old owner to the new', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await patch(keys.group(groupId), { creatorId: bob, isMute: 1 });
    await patch(keys.member(groupId, bob), { role: Role.owner });
    await patch(keys.member(groupId, owner), { role: Role.member });
    await deliver(envelope('OwnerTransferred', { groupId, operatorId: owner, newOwnerId: bob, timestamp: 7 }));
    const calls = callsFor(groupId);
    expect(calls.map(summary)).toEqual([
      '/message/group/publish.json ST:GrpNtf Transfer',
      '/group/user/ban/whitelist/add.json',
      '/group/user/ban/whitelist/rollback.json',
    ]);
    expect(content(calls[0]!).data).toMatchObject({ operatorId: owner, operatorNickname: 'Olive', targetUserIds: [bob], targetUserDisplayNames: ['Bob'] });
    expect(calls[1]!.form.getAll('userId')).toEqual([bob]);
    expect(calls[2]!.form.getAll('userId')).toEqual([owner]);
  });

  it('ManagersSet and ManagersRemoved: ST:GrpNtf SetManager / RemoveManager; no whitelist calls while not muted', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await deliver(envelope('ManagersSet', { groupId, operatorId: owner, memberIds: [bob], timestamp: 8 }));
    await deliver(envelope('ManagersRemoved', { groupId, operatorId: owner, memberIds: [bob], timestamp: 9 }));
    const calls = callsFor(groupId);
    expect(calls.map(summary)).toEqual(['/message/group/publish.json ST:GrpNtf SetManager', '/message/group/publish.json ST:GrpNtf RemoveManager']);
    expect(content(calls[0]!).data).toMatchObject({ operatorId: owner, targetUserIds: [bob], targetUserDisplayNames: ['Bob'] });
  });

  it('ManagersSet while muted adds the new managers to the whitelist', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await patch(keys.group(groupId), { isMute: 1, managerIds: [bob] });
    await patch(keys.member(groupId, bob), { role: Role.manager });
    await deliver(envelope('ManagersSet', { groupId, operatorId: owner, memberIds: [bob], timestamp: 10 }));
    expect(callsFor(groupId).map(summary)).toEqual(['/message/group/publish.json ST:GrpNtf SetManager', '/group/user/ban/whitelist/add.json']);
    expect(fake.groups.get(groupId)?.whitelist.has(bob)).toBe(true);
  });

  it('InvitationAnswered: an ST:GrpApply confirmation to whoever answered; NoticesExpired: type 0 status 3 to the notice holders', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await deliver(envelope('InvitationAnswered', { groupId, operatorId: bob, receiverId: bob, noticeType: 1, status: 1, timestamp: 11 }));
    await patch(keys.group(groupId), { status: 'dismissed', deletedAt: new Date().toISOString() });
    await deliver(envelope('NoticesExpired', { groupId, operatorId: owner, recipientIds: [bob], timestamp: 12 }));
    const applies = callsFor(groupId).filter((c) => c.form.get('objectName') === 'ST:GrpApply');
    expect(applies.map((c) => c.form.getAll('toUserId'))).toEqual([[bob], [bob]]);
    expect(applies.every((c) => c.form.get('fromUserId') === '__group_apply__')).toBe(true);
    expect(content(applies[0]!)).toEqual({
      operatorUserId: bob,
      operation: 'Invite',
      data: { operatorNickname: 'Bob', targetGroupId: groupId, targetGroupName: 'Team', status: 1, type: 1, timestamp: 11 },
    });
    expect(content(applies[1]!).data).toEqual({ operatorNickname: 'Olive', targetGroupId: groupId, targetGroupName: '', status: 3, type: 0, timestamp: 12 });
  });
});

describe('IM side of settings events', () => {
  it('BulletinPublished: the @all RC:TxtMsg from the operator; an empty bulletin sends nothing', async () => {
    const { owner, groupId } = await liveGroup();
    await deliver(envelope('BulletinPublished', { groupId, operatorId: owner, bulletinId: 1, content: 'Meet at 9', timestamp: 20 }));
    await deliver(envelope('BulletinPublished', { groupId, operatorId: owner, bulletinId: 2, content: '', timestamp: 21 }));
    const calls = callsFor(groupId);
    expect(calls.map((c) => c.form.get('objectName'))).toEqual(['RC:TxtMsg']);
    expect(calls[0]!.form.get('fromUserId')).toBe(owner);
    expect(calls[0]!.form.get('isMentioned')).toBe('1');
    expect(calls[0]!.form.get('isIncludeSender')).toBe('1');
    expect(content(calls[0]!)).toEqual({ content: '@所有人 Meet at 9', mentionedInfo: { type: 1, userIdList: ['All'] } });
  });

  it('GroupPortraitChanged: refreshes the IM group', async () => {
    const { owner, groupId } = await liveGroup();
    await deliver(envelope('GroupPortraitChanged', { groupId, operatorId: owner, portraitUri: 'https://img.example/p.png', timestamp: 22 }));
    expect(callsFor(groupId).map((c) => [c.path, c.form.get('groupName')])).toEqual([['/group/refresh.json', 'Team']]);
  });

  it('GroupMuteChanged: ban then whitelist on mute; rollback of both on unmute', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await patch(keys.group(groupId), { isMute: 1, muteWhitelist: [bob] });
    await deliver(envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 1, whitelistIds: [owner, bob], timestamp: 23 }));
    expect(fake.groups.get(groupId)).toMatchObject({ banned: true, whitelist: new Set([owner, bob]) });
    await patch(keys.group(groupId), { isMute: 0, muteWhitelist: [] });
    await deliver(envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 0, whitelistIds: [owner, bob], timestamp: 24 }));
    expect(callsFor(groupId).map((c) => c.path)).toEqual([
      '/group/ban/add.json',
      '/group/user/ban/whitelist/add.json',
      '/group/ban/rollback.json',
      '/group/user/ban/whitelist/rollback.json',
    ]);
    expect(fake.groups.get(groupId)).toMatchObject({ banned: false, whitelist: new Set() });
  });

  it('GroupMuteChanged re-muting with fewer speakers revokes the dropped ones', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await patch(keys.group(groupId), { isMute: 1, muteWhitelist: [bob] });
    await deliver(envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 1, whitelistIds: [owner, bob], timestamp: 32 }));
    expect(fake.groups.get(groupId)?.whitelist).toEqual(new Set([owner, bob]));
    await patch(keys.group(groupId), { muteWhitelist: [] });
    await deliver(envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 1, whitelistIds: [owner, bob], timestamp: 33 }));
    expect(fake.groups.get(groupId)?.whitelist).toEqual(new Set([owner]));
  });

  it('GroupMuteChanged revokes a manager demoted while the group was not muted (remove_manager raced an unmute)', async () => {
    const { owner, bob, groupId } = await liveGroup();
    await patch(keys.group(groupId), { isMute: 1, managerIds: [bob] });
    await patch(keys.member(groupId, bob), { role: Role.manager });
    await deliver(envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 1, whitelistIds: [owner, bob], timestamp: 40 }));
    expect(fake.groups.get(groupId)?.whitelist).toEqual(new Set([owner, bob]));
    // The demotion committed just before the unmute, which therefore named only the owner; the
    // demotion is delivered after the unmute, when there is nothing to do in an unmuted group.
    await patch(keys.group(groupId), { isMute: 0, managerIds: [] });
    await patch(keys.member(groupId, bob), { role: Role.member });
    await deliver(envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 0, whitelistIds: [owner], timestamp: 41 }));
    await deliver(envelope('ManagersRemoved', { groupId, operatorId: owner, memberIds: [bob], timestamp: 42 }));
    expect(fake.groups.get(groupId)).toMatchObject({ banned: false, whitelist: new Set([bob]) });
    // Muted again: Bob is a plain member and must not speak.
    await patch(keys.group(groupId), { isMute: 1 });
    await deliver(envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 1, whitelistIds: [owner], timestamp: 43 }));
    expect(fake.groups.get(groupId)).toMatchObject({ banned: true, whitelist: new Set([owner]) });
  });

  it('GroupMuteChanged delivered after a later unmute leaves the group unmuted (the table decides)', async () => {
    const { owner, groupId } = await liveGroup();
    const mute = envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 1, whitelistIds: [owner], timestamp: 30 });
    const unmute = envelope('GroupMuteChanged', { groupId, operatorId: owner, muteStatus: 0, whitelistIds: [owner], timestamp: 31 });
    // Muted, then unmuted: the table says not muted; the unmute arrives first.
    await deliver(unmute);
    await deliver(mute);
    expect(fake.groups.get(groupId)?.banned).toBe(false);
  });

  it('RegularClearChanged and MemberProtectionChanged: command messages from the operator, without data', async () => {
    const { owner, groupId } = await liveGroup();
    await deliver(envelope('RegularClearChanged', { groupId, operatorId: owner, clearStatus: 7, timestamp: 25 }));
    await deliver(envelope('RegularClearChanged', { groupId, operatorId: owner, clearStatus: 0, timestamp: 26 }));
    await deliver(envelope('MemberProtectionChanged', { groupId, operatorId: owner, memberProtection: 1, timestamp: 27 }));
    const calls = callsFor(groupId);
    expect(calls.map((c) => [c.form.get('objectName'), c.form.get('fromUserId'), c.form.get('isIncludeSender')])).toEqual([
      ['ST:ConNtf', owner, '1'],
      ['ST:ConNtf', owner, '1'],
      ['ST:GrpNtf', owner, '1'],
    ]);
    expect(calls.map(content)).toEqual([
      { operatorUserId: owner, operation: 'openRegularClear' },
      { operatorUserId: owner, operation: 'closeRegularClear' },
      { operatorUserId: owner, operation: 'openMemberProtection' },
    ]);
  });

  it('GroupMessagesCleared: ST:MsgClear clearGroupMsg from the owner with the cutoff as a number, once per event', async () => {
    const { owner, groupId } = await liveGroup();
    const cleared = envelope('GroupMessagesCleared', { groupId, operatorId: owner, clearStatus: 36, clearTime: 1_700_000_000_123, runId: 'run-1', members: 3, timestamp: 28 });
    await deliver(cleared);
    await deliver(cleared);
    const calls = callsFor(groupId);
    expect(calls.map((c) => [c.path, c.form.get('objectName'), c.form.get('fromUserId'), c.form.get('toGroupId'), c.form.get('isIncludeSender')])).toEqual([
      ['/message/group/publish.json', 'ST:MsgClear', owner, groupId, '1'],
    ]);
    expect(calls.map(content)).toEqual([{ operatorUserId: owner, operation: 'clearGroupMsg', clearTime: 1_700_000_000_123 }]);
  });
});
