import { describe, expect, it } from 'vitest';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

type MemberRow = { user: { id: string } };

describe('GET /group/{id}/members paging', () => {
  const setUp = async () => {
    const owner = uniqueUserId('owner');
    const others = Array.from({ length: 4 }, (_, i) => `${owner}-m${i}`);
    const id = await createGroup(owner, others);
    return { owner, id, all: [owner, ...others].sort() };
  };

  it('answers the whole list, without nextCursor, when not asked to page (what the clients expect)', async () => {
    const { owner, id, all } = await setUp();
    const reply = await api.members(owner, id);
    expect((reply.body.result as MemberRow[]).map((m) => m.user.id)).toEqual(all);
    expect(reply.body).not.toHaveProperty('nextCursor');
  });

  it('pages with limit and the opaque cursor, in user-id order, ending without nextCursor', async () => {
    const { owner, id, all } = await setUp();
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let pageNo = 0; pageNo < 5; pageNo++) {
      const reply = await api.membersPage(owner, id, { limit: '2', ...(cursor ? { cursor } : {}) });
      expect(reply.status).toBe(200);
      const rows = reply.body.result as MemberRow[];
      sizes.push(rows.length);
      seen.push(...rows.map((m) => m.user.id));
      cursor = reply.body.nextCursor as string | undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual(all);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('answers one page with nextCursor absent when everything fits', async () => {
    const { owner, id, all } = await setUp();
    const reply = await api.membersPage(owner, id, { limit: '500' });
    expect((reply.body.result as MemberRow[]).map((m) => m.user.id)).toEqual(all);
    expect(reply.body).not.toHaveProperty('nextCursor');
  });

  it('rejects a limit out of 1..500 and a cursor it did not hand out, naming the field', async () => {
    const { owner, id } = await setUp();
    for (const limit of ['0', '501', 'ten', '2.5']) {
      const reply = await api.membersPage(owner, id, { limit });
      expect(reply.status, limit).toBe(400);
      expect(reply.body.message).toMatch(/^limit: /);
    }
    for (const cursor of ['garbage!', Buffer.from('{"x":1}').toString('base64url')]) {
      const reply = await api.membersPage(owner, id, { limit: '2', cursor });
      expect(reply.status, cursor).toBe(400);
      expect(reply.body.message).toMatch(/^cursor: /);
    }
  });

  it('pages for members only: a non-member gets 403 on every page', async () => {
    const { id } = await setUp();
    const reply = await api.membersPage(uniqueUserId('stranger'), id, { limit: '2' });
    expect(reply.status).toBe(403);
  });
});
