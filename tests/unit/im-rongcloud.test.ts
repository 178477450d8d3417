import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRongCloudClient, type Form, type ImTransport } from '#lib/im/client.ts';
import { LIMITS, chunk, createRongCloudApi } from '#lib/im/rongcloud.ts';
import { createLogger } from '#lib/log.ts';
import { startFakeRongCloud, type FakeRongCloud } from '#tests/helpers/fake-rongcloud.ts';

let fake: FakeRongCloud;
beforeAll(async () => {
  fake = await startFakeRongCloud();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
});

const users = (n: number, prefix = 'u'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** The API over a real client against the fake; sleeping (rate limits, backoff) advances a virtual clock. */
const apiForFake = () => {
  let offset = 0;
  const transport = createRongCloudClient(
    { appKey: fake.appKey, appSecret: fake.appSecret, baseUrls: [fake.url] },
    {
      log: createLogger(),
      now: () => Date.now() + offset,
      sleep: async (ms) => {
        offset += ms;
      },
    },
  );
  return { api: createRongCloudApi(transport), slept: () => offset };
};

/** A transport that only records what it is asked to send. */
const recordingTransport = () => {
  const sent: Array<{ path: string; form: Form; deadline: number | undefined }> = [];
  const transport: ImTransport = {
    call: async (path, form, options) => {
      sent.push({ path, form, deadline: options?.deadline });
      return { code: 200 };
    },
  };
  return { api: createRongCloudApi(transport), sent };
};

const sizes = (path: string, key: string): number[] =>
  fake.calls.filter((c) => c.path === path).map((c) => c.form.getAll(key).length);

describe('splitting at the per-call limits', () => {
  it('creates a 2500-member group as create(1000) + join(1000) + join(500), all with the name', async () => {
    const { api } = apiForFake();
    const members = users(2500);
    await api.createGroup('big', 'Big group', members);
    expect(fake.calls.map((c) => [c.path, c.form.getAll('userId').length])).toEqual([
      ['/group/create.json', 1000],
      ['/group/join.json', 1000],
      ['/group/join.json', 500],
    ]);
    expect(fake.calls.every((c) => c.form.get('groupName') === 'Big group' && c.form.get('groupId') === 'big')).toBe(true);
    expect(fake.groups.get('big')).toMatchObject({ name: 'Big group', members: new Set(members) });
  });

  it('the fake refuses more than 1000 users in one call, which is what the split avoids', async () => {
    const { api } = apiForFake();
    const transport = createRongCloudClient({ appKey: fake.appKey, appSecret: fake.appSecret, baseUrls: [fake.url] });
    await expect(transport.call('/group/create.json', { userId: users(1001), groupId: 'g', groupName: 'G' })).rejects.toMatchObject({
      code: 1502,
      retryable: false,
    });
    await api.createGroup('g', 'G', users(1001));
    expect(fake.groups.get('g')?.members.size).toBe(1001);
  });

  it('joins and quits 1000 users per call', async () => {
    const { api } = apiForFake();
    await api.joinGroup('g', 'G', users(2001));
    expect(sizes('/group/join.json', 'userId')).toEqual([1000, 1000, 1]);
    await api.quitGroup('g', users(1500));
    expect(sizes('/group/quit.json', 'userId')).toEqual([1000, 500]);
    expect(fake.groups.get('g')?.members).toEqual(new Set(users(2001).slice(1500)));
  });

  it('adds 45 users to the mute whitelist in 3 calls, and removes them 20 at a time', async () => {
    const { api } = apiForFake();
    await api.createGroup('g', 'G', users(50));
    await api.addWhitelist('g', users(45));
    expect(sizes('/group/user/ban/whitelist/add.json', 'userId')).toEqual([20, 20, 5]);
    expect(fake.groups.get('g')?.whitelist.size).toBe(45);
    await api.removeWhitelist('g', users(21));
    expect(sizes('/group/user/ban/whitelist/rollback.json', 'userId')).toEqual([20, 1]);
    expect(fake.groups.get('g')?.whitelist).toEqual(new Set(users(45).slice(21)));
  });

  it('sends a private message to 2500 recipients in 3 calls, each within the per-minute rate limit', async () => {
    const { api, slept } = apiForFake();
    const message = { fromUserId: 'sys', toUserIds: users(2500), objectName: 'ST:GrpNtf', content: '{"a":1}', isPersisted: 1 as const };
    await api.publishPrivateMessage(message);
    expect(sizes('/message/private/publish.json', 'toUserId')).toEqual([1000, 1000, 500]);
    expect(new Set(fake.calls.flatMap((c) => c.form.getAll('toUserId')))).toEqual(new Set(message.toUserIds));
    expect(fake.calls.every((c) => c.form.get('content') === '{"a":1}' && c.form.get('isPersisted') === '1')).toBe(true);
    // 2500 of 6000 per minute: no waiting.
    expect(slept()).toBe(0);
  });

  it('makes no call for an empty list of users or recipients', async () => {
    const { api, sent } = recordingTransport();
    await api.joinGroup('g', 'G', []);
    await api.quitGroup('g', []);
    await api.addWhitelist('g', []);
    await api.removeWhitelist('g', []);
    await api.publishPrivateMessage({ fromUserId: 'a', toUserIds: [], objectName: 'RC:TxtMsg', content: '{}' });
    expect(sent).toEqual([]);
  });

  it('passes the caller deadline to every part of a split call', async () => {
    const { api, sent } = recordingTransport();
    await api.createGroup('g', 'G', users(1500), { deadline: 1234 });
    expect(sent.map((s) => [s.path, s.deadline])).toEqual([
      ['/group/create.json', 1234],
      ['/group/join.json', 1234],
    ]);
  });

  it('chunks preserve order and cover every item', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
    expect(LIMITS).toEqual({ groupUsers: 1000, whitelistUsers: 20, privateRecipients: 1000, systemRecipients: 100 });
  });
});

describe('the group calls against the fake', () => {
  it('dismiss, refresh, ban and unban change the IM state', async () => {
    const { api } = apiForFake();
    await api.createGroup('g', 'Old', ['a', 'b']);
    await api.refreshGroup('g', 'New');
    expect(fake.groups.get('g')?.name).toBe('New');
    await api.banGroup('g');
    expect(fake.groups.get('g')?.banned).toBe(true);
    await api.unbanGroup('g');
    expect(fake.groups.get('g')?.banned).toBe(false);
    await api.dismissGroup('g', 'a');
    expect(fake.groups.has('g')).toBe(false);
    expect(fake.calls.at(-1)?.params).toEqual({ userId: 'a', groupId: 'g' });
  });

  it('sends the exact forms of the message and history calls', async () => {
    const { api, sent } = recordingTransport();
    await api.publishGroupMessage({ fromUserId: 'a', toGroupId: 'g', objectName: 'ST:GrpNtf', content: '{}', isIncludeSender: 1 });
    await api.publishPrivateMessage({ fromUserId: 'a', toUserIds: ['b', 'c'], objectName: 'ST:GrpNtf', content: '{}', pushContent: 'hi' });
    await api.cleanGroupHistory('g', 'u', 1700000000000);
    expect(sent.map((s) => [s.path, JSON.parse(JSON.stringify(s.form))])).toEqual([
      ['/message/group/publish.json', { fromUserId: 'a', toGroupId: 'g', objectName: 'ST:GrpNtf', content: '{}', isIncludeSender: 1 }],
      ['/message/private/publish.json', { fromUserId: 'a', toUserId: ['b', 'c'], objectName: 'ST:GrpNtf', content: '{}', pushContent: 'hi' }],
      ['/conversation/message/history/clean.json', { conversationType: 3, fromUserId: 'u', targetId: 'g', msgTimestamp: 1700000000000 }],
    ]);
  });

  it('the fake accepts the message and history calls as sent', async () => {
    const { api } = apiForFake();
    await api.publishGroupMessage({ fromUserId: 'a', toGroupId: 'g', objectName: 'ST:GrpNtf', content: '{"x":"y z"}', isMentioned: 0 });
    await api.cleanGroupHistory('g', 'u', 42);
    expect(fake.calls.map((c) => c.params)).toEqual([
      { fromUserId: 'a', toGroupId: 'g', objectName: 'ST:GrpNtf', content: '{"x":"y z"}', isMentioned: '0' },
      { conversationType: '3', fromUserId: 'u', targetId: 'g', msgTimestamp: '42' },
    ]);
  });

  it('a failing part stops the split and surfaces the error', async () => {
    const { api } = apiForFake();
    fake.fail('/group/join.json', { status: 200, code: 1002, errorMessage: 'bad join' });
    await expect(api.createGroup('g', 'G', users(2500))).rejects.toMatchObject({ path: '/group/join.json', code: 1002, retryable: false });
    expect(fake.calls.map((c) => c.path)).toEqual(['/group/create.json']);
  });
});
