import { describe, expect, it } from 'vitest';
import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, groupItem, patch } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

describe('POST /group/rename', () => {
  it('lets the owner rename, escaping the name, and records a GroupRenamed event', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')], 'Before');
    const reply = await api.rename(owner, { groupId: id, name: '<b>After</b>' });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ code: 200 });

    expect((await api.get(owner, id)).body.result).toMatchObject({ name: '&lt;b&gt;After&lt;/b&gt;' });
    const events = await eventsFor(id);
    expect(events.map((e) => e.detailType)).toEqual(['GroupCreated', 'GroupRenamed']);
    expect(events[1]?.detail).toMatchObject({ groupId: id, operatorId: owner, name: '&lt;b&gt;After&lt;/b&gt;' });
  });

  it('refuses plain members and managers with the reference\'s 400, changing nothing', async () => {
    const [owner, bob, manager] = [uniqueUserId('owner'), uniqueUserId('bob'), uniqueUserId('manager')];
    const id = await createGroup(owner, [bob, manager], 'Kept');
    await patch(keys.member(id, manager), { role: 2 });
    for (const caller of [bob, manager, uniqueUserId('stranger')]) {
      const reply = await api.rename(caller, { groupId: id, name: 'Hijacked' });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ code: 400, message: 'Unknown group or not creator.' });
    }
    expect((await groupItem(id))?.name).toBe('Kept');
    expect((await eventsFor(id)).map((e) => e.detailType)).toEqual(['GroupCreated']);
  });

  it('answers 404 for unknown, impossible and dismissed groups', async () => {
    const owner = uniqueUserId('owner');
    const dismissed = await createGroup(owner, [uniqueUserId('bob')]);
    await patch(keys.group(dismissed), { status: 'dismissed', deletedAt: new Date().toISOString() });
    for (const groupId of ['NoSuchGroup123', 'not/a/group', dismissed]) {
      const reply = await api.rename(owner, { groupId, name: 'New name' });
      expect(reply.status, groupId).toBe(404);
      expect(reply.body).toEqual({ code: 404, message: 'Unknown group.' });
    }
    expect((await groupItem(dismissed))?.name).toBe('Test group');
  });

  it.each([
    [{ name: 'ok name' }, 'groupId: required'],
    [{ groupId: '', name: 'ok name' }, 'groupId: expected a non-empty group id'],
    [{ groupId: null, name: 'ok name' }, 'groupId: required'],
    [{ groupId: 'abc' }, 'name: required'],
    [{ groupId: 'abc', name: 'x' }, 'name: Length of group name is out of limit.'],
    [{ groupId: 'abc', name: 'y'.repeat(33) }, 'name: Length of group name is out of limit.'],
  ])('rejects %j with a 400 naming the field', async (body, message) => {
    const reply = await api.rename(uniqueUserId('owner'), body);
    expect(reply.status).toBe(400);
    expect(reply.body).toEqual({ code: 400, message });
  });

  it('keeps every concurrent rename: one final name, one event and one version step each', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')], 'Start');
    const names = Array.from({ length: 10 }, (_, i) => `Name ${i}`);
    const replies = await Promise.all(names.map((name) => api.rename(owner, { groupId: id, name })));
    expect(replies.every((r) => r.body.code === 200)).toBe(true);

    const group = await groupItem(id);
    expect(names).toContain(group?.name);
    expect(group?.version).toBe(11);
    expect(group?.memberCount).toBe(2);
    const renamed = (await eventsFor(id)).filter((e) => e.detailType === 'GroupRenamed');
    expect(renamed.map((e) => e.detail.name).sort()).toEqual([...names].sort());
  });
});
