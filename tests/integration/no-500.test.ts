import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/**
 * No input, however malformed, produces a 500: arbitrary JSON bodies and path ids against the real
 * handlers on DynamoDB Local. Every answer is a 200 or a 4xx with the `{code, message}` envelope.
 */

const wellFormed = (reply: { status: number; body: { code?: number; message?: string } }) => {
  expect(reply.status).toBeLessThan(500);
  if (reply.status !== 200) expect(reply.body).toEqual({ code: reply.status, message: expect.any(String) });
};

const values = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.oneof(fc.string(), fc.constant(null), fc.integer())),
  fc.object(),
);

describe('malformed input never produces a 500', () => {
  it('POST /group/create', async () => {
    await fc.assert(
      fc.asyncProperty(fc.record({ name: values, memberIds: values, portraitUri: values }, { requiredKeys: [] }), async (body) => {
        wellFormed(await api.create(uniqueUserId('fuzz'), body));
      }),
      { numRuns: 60 },
    );
  });

  it('POST /group/rename', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')]);
    await fc.assert(
      fc.asyncProperty(fc.record({ groupId: fc.oneof(values, fc.constant(id)), name: values }, { requiredKeys: [] }), async (body) => {
        wellFormed(await api.rename(owner, body));
      }),
      { numRuns: 60 },
    );
  });

  it('GET /group/{id} and /group/{id}/members', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }), async (id) => {
        wellFormed(await api.get(uniqueUserId('fuzz'), id));
        wellFormed(await api.members(uniqueUserId('fuzz'), id));
      }),
      { numRuns: 60 },
    );
  });

  it('every membership endpoint, called by the owner, a member and a stranger', async () => {
    const owner = uniqueUserId('owner');
    const bob = uniqueUserId('bob');
    const id = await createGroup(owner, [bob, uniqueUserId('carol')]);
    const endpoints = [api.add, api.join, api.kick, api.quit, api.dismiss, api.transfer, api.setManager, api.removeManager, api.agree, api.clearNotice, api.exitedList];
    const ids = fc.oneof(values, fc.constant(id), fc.constant(owner), fc.constant(bob));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.constantFrom(owner, bob, uniqueUserId('stranger')),
        fc.record({ groupId: fc.oneof(values, fc.constant(id)), memberIds: fc.oneof(values, fc.array(ids)), userId: ids, receiverId: ids, status: values }, { requiredKeys: [] }),
        async (endpoint, caller, body) => {
          wellFormed(await endpoint(caller, body));
        },
      ),
      { numRuns: 120 },
    );
    wellFormed(await api.noticeInfo(owner));
  });

  it('GET /group/{id}/members paging parameters', async () => {
    const owner = uniqueUserId('owner');
    const id = await createGroup(owner, [uniqueUserId('bob')]);
    await fc.assert(
      fc.asyncProperty(fc.record({ limit: fc.string(), cursor: fc.string() }, { requiredKeys: [] }), async (query) => {
        wellFormed(await api.membersPage(owner, id, query));
      }),
      { numRuns: 60 },
    );
  });

  it('any JSON value as the whole body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        wellFormed(await api.create(uniqueUserId('fuzz'), JSON.stringify(body)));
      }),
      { numRuns: 40 },
    );
  });
});
