import {
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/lib-dynamodb';
import type { FinalizeRequestMiddleware, HandlerExecutionContext, InitializeMiddleware } from '@smithy/types';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureTable, localClient } from '#infra/local/dynamodb.ts';
import { KEPT_CHANGING } from '#lib/domain/stale.ts';
import { keys } from '#lib/store/keys.ts';
import { users } from '#tests/helpers/checks.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { db, eventsFor, getItem, partitionItems } from '#tests/helpers/db.ts';
import { api, createGroup, type Reply } from '#tests/helpers/endpoints.ts';

/**
 * Faults at the repository seam (issue 10): DynamoDB throttling, TransactionConflict (DynamoDB
 * Local never returns it), 5xx, timeouts and lost answers, injected as real SDK exceptions by a
 * middleware on the store's own document client, through the real handlers. Transient faults are
 * retried (by the SDK's retry strategy or lib/store/commit.ts) and the change lands exactly once;
 * persistent ones end in a clean error with nothing written.
 */

// A table of this file's own, without a stream: the whole-table invariants and before/after scans
// below must see only this file's items.
vi.hoisted(() => {
  process.env.TABLE_NAME = `sealtalk-test-faults-${Math.random().toString(16).slice(2, 10)}`;
});

const { store } = await import('#lib/app.ts');

beforeAll(async () => {
  const ddb = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  await ensureTable(ddb, process.env.TABLE_NAME as string, undefined, { stream: false });
  ddb.destroy();
});

// ---------------------------------------------------------------------------------------------
// Fault injection

type Operation = 'TransactWriteItems' | 'UpdateItem' | 'GetItem' | 'Query' | 'BatchGetItem';

/** Where a fault strikes: before the request is sent (nothing happened) or after (it happened, the answer is lost). */
type When = 'before' | 'after';

interface Injection {
  /** Every attempt of `operation` seen while installed (SDK retries included). */
  calls: number;
  /** Faults thrown. */
  injected: number;
  /** The `ClientRequestToken` of each TransactWriteItems attempt, in order. */
  tokens: (string | undefined)[];
}

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: `fault-${Math.random().toString(36).slice(2)}`, attempts: 1, totalRetryDelay: 0 });

/** Real SDK exceptions, shaped as the SDK's deserializer builds them. */
const faults = {
  conflict: () =>
    new TransactionCanceledException({
      message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
      $metadata: meta(400),
      CancellationReasons: [{ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }],
    }),
  provisioned: () =>
    new ProvisionedThroughputExceededException({ message: 'The level of configured provisioned throughput for the table was exceeded.', $metadata: meta(400) }),
  throttling: () => new ThrottlingException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: meta(400) }),
  requestLimit: () => new RequestLimitExceeded({ message: 'Throughput exceeds the current throughput limit for your account.', $metadata: meta(400) }),
  internal: () => new InternalServerError({ message: 'Internal server error', $metadata: meta(500) }),
  /** What @smithy/node-http-handler throws when the request times out. */
  timeout: () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError', code: 'ETIMEDOUT' }),
  /** A socket closed under the request. */
  hangUp: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
} satisfies Record<string, () => Error>;

type FaultName = keyof typeof faults;

const installed: string[] = [];
let sequence = 0;

/**
 * Throws `fault` on the attempts of `operation` for which `strike(attempt)` holds (attempt 1 is the
 * first), `when` before or after the request reached DynamoDB Local. The middleware sits in the
 * finalizeRequest step below the SDK's retry middleware, so each retry is an attempt here.
 */
const inject = (
  operation: Operation,
  fault: () => Error,
  strike: (attempt: number, request: string) => boolean,
  when: When = 'before',
): Injection => {
  const state: Injection = { calls: 0, injected: 0, tokens: [] };
  const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context: HandlerExecutionContext) => async (args) => {
    if (context.commandName !== `${operation}Command`) return next(args);
    const attempt = ++state.calls;
    // The serialized request (a Uint8Array): what this attempt really sends.
    const body = (args.request as { body?: unknown }).body;
    const text = typeof body === 'string' ? body : body instanceof Uint8Array ? new TextDecoder().decode(body) : '{}';
    if (operation === 'TransactWriteItems') state.tokens.push((JSON.parse(text) as { ClientRequestToken?: string }).ClientRequestToken);
    if (!strike(attempt, text)) return next(args);
    state.injected++;
    if (when === 'after') await next(args);
    throw fault();
  };
  onRequest(middleware);
  return state;
};

/** Installs a middleware on the store's client, in the finalizeRequest step, for this test only. */
const onRequest = (middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes>) => {
  const name = `fault-middleware-${++sequence}`;
  store.client.middlewareStack.add(middleware, { step: 'finalizeRequest', priority: 'low', name });
  installed.push(name);
};

/** Installs a middleware on the store's client, in the initialize step (document-client input), for this test only. */
const onCommand = (middleware: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes>) => {
  const name = `fault-middleware-${++sequence}`;
  store.client.middlewareStack.add(middleware, { step: 'initialize', name });
  installed.push(name);
};

/**
 * Runs `between` (a real concurrent change, through the real handlers) just before a request's
 * second transaction is sent: its first chunk has committed, the second then meets the change.
 */
const beforeSecondTransaction = (between: () => Promise<void>) => {
  const seen = { transactions: 0 };
  let running = false;
  onRequest((next, context) => async (args) => {
    if (context.commandName !== 'TransactWriteItemsCommand' || running) return next(args);
    if (++seen.transactions === 2) {
      running = true;
      await between();
      running = false;
    }
    return next(args);
  });
  return seen;
};

/** The first `n` attempts fail. */
const firstN = (n: number) => (attempt: number) => attempt <= n;
const always = () => true;

afterEach(() => {
  for (const name of installed.splice(0)) store.client.middlewareStack.remove(name);
});

// ---------------------------------------------------------------------------------------------
// What must hold

/** Every item of this file's table, strongly consistent, in key order. */
const scanTable = async (): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({ TableName: process.env.TABLE_NAME, ConsistentRead: true, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => `${String(a.pk)}\u0000${String(a.sk)}`.localeCompare(`${String(b.pk)}\u0000${String(b.sk)}`));
};

/**
 * The counts of the whole table are exact: each group's `memberCount` is its member items, each
 * user's `groupCount` their member items; every outbox event id is unique.
 */
const expectExactCounts = async () => {
  const items = await scanTable();
  const memberItems = items.filter((i) => String(i.sk).startsWith('MEMBER#'));
  for (const group of items.filter((i) => i.sk === 'META' && i.status === 'active')) {
    expect(group.memberCount, `memberCount of ${String(group.pk)}`).toBe(memberItems.filter((m) => m.pk === group.pk).length);
  }
  for (const profile of items.filter((i) => i.sk === 'PROFILE')) {
    const userId = String(profile.pk).slice(keys.profile('').pk.length);
    const memberships = memberItems.filter((m) => m.sk === keys.member('', userId).sk).length;
    expect(profile.groupCount ?? 0, `groupCount of ${userId}`).toBe(memberships);
  }
  const eventIds = items.filter((i) => i.kind === 'event').map((i) => i.eventId);
  expect(new Set(eventIds).size).toBe(eventIds.length);
};

const eventTypes = async (groupId: string) => (await eventsFor(groupId)).map((e) => e.detailType);

/** A 500 that names the request (`lib/http/responses.ts`), or (`keptChanging`) the 405 "try again". */
const expectCleanFailure = (reply: Reply, keptChanging = false) => {
  if (keptChanging) {
    expect(reply.status, JSON.stringify(reply.body)).toBe(405);
    expect(reply.body).toEqual({ code: 405, message: KEPT_CHANGING });
    return;
  }
  expect(reply.status, JSON.stringify(reply.body)).toBe(500);
  expect(reply.body).toEqual({ code: 500, message: 'internal error', requestId: expect.any(String) });
  expect(String(reply.body.requestId).length).toBeGreaterThan(0);
};

// ---------------------------------------------------------------------------------------------
// The writes under test: each sets up its group, then makes one change whose events it names.

interface Scenario {
  /** Creates what the change needs; returns the change and the group it touches. */
  prepare: () => Promise<{ act: () => Promise<Reply>; groupId?: string }>;
  /** The outbox events the change adds to its group, in order. */
  events: string[];
}

const scenarios: Record<string, Scenario> = {
  create: {
    prepare: async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      let groupId: string | undefined;
      return {
        act: async () => {
          const reply = await api.create(owner, { name: 'Faults', memberIds: [bob, carol] });
          groupId = (reply.body.result as { id?: string } | undefined)?.id;
          return reply;
        },
        get groupId() {
          return groupId;
        },
      };
    },
    events: ['GroupCreated'],
  },
  join: {
    prepare: async () => {
      const [owner, bob, dave] = users('owner', 'bob', 'dave');
      const groupId = await createGroup(owner, [bob]);
      return { act: () => api.join(dave, { groupId }), groupId };
    },
    events: ['GroupCreated', 'MembersJoined'],
  },
  kick: {
    prepare: async () => {
      const [owner, bob, carol] = users('owner', 'bob', 'carol');
      const groupId = await createGroup(owner, [bob, carol]);
      return { act: () => api.kick(owner, { groupId, memberIds: [bob] }), groupId };
    },
    events: ['GroupCreated', 'MembersKicked'],
  },
  transfer: {
    prepare: async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      return { act: () => api.transfer(owner, { groupId, userId: bob }), groupId };
    },
    events: ['GroupCreated', 'OwnerTransferred'],
  },
  set_bulletin: {
    prepare: async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      return { act: () => api.setBulletin(owner, { groupId, content: 'Meet at nine' }), groupId };
    },
    events: ['GroupCreated', 'BulletinPublished'],
  },
};

/** Runs a scenario without faults once, to learn the events it really adds (names checked below). */
const baseline = new Map<string, string[]>();
const baselineOf = async (name: string): Promise<string[]> => {
  const known = baseline.get(name);
  if (known) return known;
  const run = await (scenarios[name] as Scenario).prepare();
  const reply = await run.act();
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  expect(reply.body.code).toBe(200);
  const types = await eventTypes(run.groupId as string);
  baseline.set(name, types);
  return types;
};

describe('faults at the repository seam', () => {
  it('the injector sees the store client’s commands, and the baselines add one event per change', async () => {
    for (const name of Object.keys(scenarios)) {
      const types = await baselineOf(name);
      const expected = (scenarios[name] as Scenario).events;
      // The last event is the change's own; earlier ones come from creating the group.
      expect(types.at(-1), `${name}: ${types.join(',')}`).toBe(expected.at(-1));
      expect(types.length, `${name}: ${types.join(',')}`).toBe(expected.length);
    }
    await expectExactCounts();
  });

  describe('transient faults on writes are retried and the change lands exactly once', () => {
    const cases: Array<{ fault: FaultName; times: number; retriedBy: string }> = [
      { fault: 'conflict', times: 2, retriedBy: 'commit.ts' },
      { fault: 'internal', times: 2, retriedBy: 'SDK' },
      { fault: 'timeout', times: 2, retriedBy: 'SDK' },
      { fault: 'hangUp', times: 1, retriedBy: 'SDK' },
    ];
    // Throttling backs off from 1 s (the SDK's throttling base): one kind per operation keeps the file short.
    const throttles: FaultName[] = ['provisioned', 'throttling', 'requestLimit'];
    Object.keys(scenarios).forEach((name, i) => {
      const throttle = throttles[i % throttles.length] as FaultName;
      for (const { fault, times, retriedBy } of [...cases, { fault: throttle, times: 1, retriedBy: 'SDK' }]) {
        it(`${name}: ${fault} × ${times} on TransactWriteItems (retried by ${retriedBy})`, async () => {
          const expected = await baselineOf(name);
          const run = await (scenarios[name] as Scenario).prepare();
          const injection = inject('TransactWriteItems', faults[fault], firstN(times));
          const reply = await run.act();
          expect(reply.status, JSON.stringify(reply.body)).toBe(200);
          expect(reply.body.code).toBe(200);
          expect(injection.injected).toBe(times);
          expect(injection.calls).toBe(times + 1);
          expect(await eventTypes(run.groupId as string)).toEqual(expected);
          await expectExactCounts();
        });
      }
    });
  });

  describe('an answer lost after the commit: the retry is a no-op (same idempotency token)', () => {
    const lost: FaultName[] = ['timeout', 'hangUp', 'internal'];
    for (const name of Object.keys(scenarios)) {
      for (const fault of lost) {
        it(`${name}: the transaction commits, then ${fault}`, async () => {
          const expected = await baselineOf(name);
          const run = await (scenarios[name] as Scenario).prepare();
          const injection = inject('TransactWriteItems', faults[fault], firstN(1), 'after');
          const reply = await run.act();
          expect(reply.status, JSON.stringify(reply.body)).toBe(200);
          expect(reply.body.code).toBe(200);
          expect(injection.calls).toBe(2);
          // The SDK re-sent the same request: same ClientRequestToken, so DynamoDB did nothing twice.
          expect(injection.tokens[0]).toEqual(expect.any(String));
          expect(injection.tokens[1]).toBe(injection.tokens[0]);
          expect(await eventTypes(run.groupId as string)).toEqual(expected);
          await expectExactCounts();
        });
      }
    }

    it('commit.ts: its own TransactionConflict retries are new attempts of the same items; the change lands once', async () => {
      await baselineOf('join');
      const run = await (scenarios.join as Scenario).prepare();
      const injection = inject('TransactWriteItems', faults.conflict, firstN(2));
      const reply = await run.act();
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body.code).toBe(200);
      // Three attempts, each a new TransactWriteItems (its own token: a cancelled one wrote nothing).
      expect(injection.tokens).toHaveLength(3);
      expect(await eventTypes(run.groupId as string)).toEqual(baseline.get('join'));
      await expectExactCounts();
    });

    it('a profile projection (UpdateItem) whose answer was lost: the retry finds it written, the request succeeds', async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      const injection = inject('UpdateItem', faults.timeout, firstN(1), 'after');
      const reply = await api.get({ sub: bob, name: 'Bob Lost-Answer' }, groupId);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(injection.calls).toBe(2);
      const profile = (await scanTable()).find((i) => i.pk === keys.profile(bob).pk && i.sk === 'PROFILE');
      expect(profile?.nickname ?? profile?.name).toBe('Bob Lost-Answer');
    });
  });

  describe('the profile projection never fails a request', () => {
    it('a projection that keeps failing: the request still answers, the next one writes the claims', async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      const injection = inject('UpdateItem', faults.internal, always);
      const reply = await api.get({ sub: bob, name: 'Bob Unlucky' }, groupId);
      installed.splice(0).forEach((n) => store.client.middlewareStack.remove(n));
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(injection.calls).toBeGreaterThan(0);
      const before = (await scanTable()).find((i) => i.pk === keys.profile(bob).pk && i.sk === 'PROFILE');
      expect(before?.nickname).not.toBe('Bob Unlucky');

      expect((await api.get({ sub: bob, name: 'Bob Unlucky' }, groupId)).status).toBe(200);
      const after = (await scanTable()).find((i) => i.pk === keys.profile(bob).pk && i.sk === 'PROFILE');
      expect(after?.nickname).toBe('Bob Unlucky');
    });
  });

  describe('persistent faults end in a clean error with nothing written', () => {
    // A persistent TransactionConflict: a 405 "try again" everywhere (join and kick after their
    // own re-reads; create, transfer and set_bulletin straight from the commit path), never a 500.
    const persistent: Array<{ fault: FaultName; keptChanging: boolean }> = [
      { fault: 'internal', keptChanging: false },
      { fault: 'conflict', keptChanging: true },
    ];
    for (const name of Object.keys(scenarios)) {
      for (const { fault, keptChanging } of persistent) {
        it(`${name}: ${fault} on every TransactWriteItems`, async () => {
          const run = await (scenarios[name] as Scenario).prepare();
          const before = await scanTable();
          const injection = inject('TransactWriteItems', faults[fault], always);
          const reply = await run.act();
          expectCleanFailure(reply, keptChanging);
          expect(injection.injected).toBeGreaterThan(1);
          installed.splice(0).forEach((n) => store.client.middlewareStack.remove(n));
          expect(await scanTable()).toEqual(before);
        });
      }
    }

    it('join: persistent throttling (ProvisionedThroughputExceeded) gives up after the SDK’s 4 attempts', async () => {
      const run = await (scenarios.join as Scenario).prepare();
      const before = await scanTable();
      const injection = inject('TransactWriteItems', faults.provisioned, always);
      expectCleanFailure(await run.act());
      expect(injection.calls).toBe(4);
      installed.splice(0).forEach((n) => store.client.middlewareStack.remove(n));
      expect(await scanTable()).toEqual(before);
    });

    it('a large create (chunked transactions): a chunk that keeps failing undoes the chunks written', async () => {
      const [owner] = users('owner');
      const members = Array.from({ length: 60 }, (_, i) => users(`m${i}`)[0]);
      // Every member already has a profile (as any real user has), so undoing leaves the table as it was.
      const seed = await createGroup(owner, members.slice(0, 59));
      await api.join(members[59] as string, { groupId: seed });
      const before = await scanTable();
      // Chunk 0 (the group as `creating` + its owner) commits; the chunks of the other members go in
      // parallel, and the one that puts m55's membership fails on all its attempts.
      const target = `"MEMBER#${members[55] as string}"`;
      const injection = inject('TransactWriteItems', faults.internal, (_, request) => request.includes(target) && request.includes('"Put"'));
      const reply = await api.create(owner, { name: 'Big', memberIds: members });
      expectCleanFailure(reply);
      expect(injection.injected).toBe(4);
      installed.splice(0).forEach((n) => store.client.middlewareStack.remove(n));
      expect(await scanTable()).toEqual(before);
      await expectExactCounts();
    });
  });

  describe('a large add (several transactions) stopped after its first: 200 for what it did, never an error over a partial change', () => {
    /** 40 fresh users: two transactions' worth of admissions (about 31 fit in one). */
    const forty = (prefix: string) => Array.from({ length: 40 }, (_, i) => uniqueUserId(`${prefix}${String(i).padStart(2, '0')}`));
    const joinedBy = async (groupId: string, operatorId: string) =>
      (await eventsFor(groupId)).filter((e) => e.detailType === 'MembersJoined' && e.detail.operatorId === operatorId).flatMap((e) => e.detail.memberIds as string[]);
    const memberIds = async (groupId: string) => (await partitionItems(groupId, 'MEMBER#')).map((i) => String(i.userId));

    it('certification switched on between the chunks: the rest wait for approval (status 2), counts exact', async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      const targets = forty('t');
      const seen = beforeSecondTransaction(async () => {
        expect((await api.setCertification(owner, { groupId, certiStatus: 0 })).status).toBe(200);
      });

      const reply = await api.add(bob, { groupId, memberIds: targets });

      expect(seen.transactions).toBeGreaterThan(2);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const joined = await joinedBy(groupId, bob);
      expect(joined.length).toBeGreaterThan(0);
      expect(joined.length).toBeLessThan(targets.length);
      const rest = targets.filter((u) => !joined.includes(u));
      expect(reply.body.result).toEqual([...joined.map((id) => ({ id, status: 1 })), ...rest.map((id) => ({ id, status: 2 }))]);
      expect(joined).toEqual(targets.slice(0, joined.length));
      expect((await memberIds(groupId)).sort()).toEqual([owner, bob, ...joined].sort());
      const invited = (await eventsFor(groupId)).filter((e) => e.detailType === 'GroupInvited');
      expect(invited.map((e) => e.detail)).toEqual([expect.objectContaining({ requesterId: bob, receiverIds: rest, noticeType: 2, recipientIds: [owner] })]);
      await expectExactCounts();
    });

    it('a user of the second chunk joins by themselves between the chunks: left out, the others added', async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      const targets = forty('u');
      const joiner = targets.at(-1) as string;
      beforeSecondTransaction(async () => {
        expect((await api.join(joiner, { groupId })).status).toBe(200);
      });

      const reply = await api.add(owner, { groupId, memberIds: targets });

      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const added = targets.filter((u) => u !== joiner);
      expect(reply.body.result).toEqual(added.map((id) => ({ id, status: 1 })));
      expect(await joinedBy(groupId, owner)).toEqual(added);
      expect(await joinedBy(groupId, joiner)).toEqual([joiner]);
      expect((await memberIds(groupId)).sort()).toEqual([owner, bob, ...targets].sort());
      await expectExactCounts();
    });

    it('the caller is kicked between the chunks: 200 with the users of the first chunk only, nothing more written', async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      const targets = forty('k');
      beforeSecondTransaction(async () => {
        expect((await api.kick(owner, { groupId, memberIds: [bob] })).status).toBe(200);
      });

      const reply = await api.add(bob, { groupId, memberIds: targets });

      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const joined = await joinedBy(groupId, bob);
      expect(joined.length).toBeGreaterThan(0);
      expect(joined).toEqual(targets.slice(0, joined.length));
      expect(reply.body.result).toEqual(joined.map((id) => ({ id, status: 1 })));
      expect((await memberIds(groupId)).sort()).toEqual([owner, ...joined].sort());
      expect((await eventsFor(groupId)).filter((e) => e.detailType === 'GroupInvited')).toEqual([]);
      await expectExactCounts();
    });
  });

  describe('a large kick stopped after its first transaction goes on for the rest', () => {
    it('a member of the second chunk quits between the chunks: 200, every listed user gone, one MembersKicked', async () => {
      const [owner] = users('owner');
      const targets = Array.from({ length: 40 }, (_, i) => uniqueUserId(`m${String(i).padStart(2, '0')}`));
      const groupId = await createGroup(owner, [...targets, uniqueUserId('stays')]);
      const quitter = targets.at(-1) as string;
      const seen = beforeSecondTransaction(async () => {
        expect((await api.quit(quitter, { groupId })).status).toBe(200);
      });

      const reply = await api.kick(owner, { groupId, memberIds: targets });

      expect(seen.transactions).toBeGreaterThan(2);
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      const left = await partitionItems(groupId, 'MEMBER#');
      expect(left.map((i) => i.userId)).toHaveLength(2);
      expect(left.every((i) => !targets.includes(String(i.userId)))).toBe(true);
      const events = await eventsFor(groupId);
      expect(events.filter((e) => e.detailType === 'MembersKicked').map((e) => e.detail.memberIds)).toEqual([targets]);
      expect(events.filter((e) => e.detailType === 'MemberQuit').map((e) => e.detail.userId)).toEqual([quitter]);
      await expectExactCounts();
    });
  });

  describe('a change is decided after its last read', () => {
    it("the owner's quit that finds the last other member gone dismisses, and its events come after that member's quit", async () => {
      // The owner's quit reads the group (2 members), then the member list to choose a successor.
      // Here the other member quits in between: the list shows the owner alone, so the quit
      // dismisses. Its events must be stamped after the quit it saw (they were stamped before the
      // list was read, so the outbox put GroupDismissed before the last MemberQuit).
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      let lists = 0;
      let striking = false;
      onCommand((next, context) => async (args) => {
        const input = JSON.stringify(args.input);
        if (context.commandName !== 'QueryCommand' || striking || !input.includes(keys.group(groupId).pk) || !input.includes('MEMBER#')) return next(args);
        if (lists++ === 0) {
          striking = true;
          expect((await api.quit(bob, { groupId })).status).toBe(200);
          striking = false;
        }
        return next(args);
      });

      const reply = await api.quit(owner, { groupId });

      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(lists).toBe(1);
      expect(await getItem(keys.group(groupId))).toMatchObject({ status: 'dismissed', memberCount: 0 });
      const events = await eventsFor(groupId);
      expect(events.map((e) => [e.detailType, e.detail.userId ?? e.detail.operatorId])).toEqual([
        ['GroupCreated', owner],
        ['MemberQuit', bob],
        ['MemberQuit', owner],
        ['GroupDismissed', owner],
      ]);
      expect((events[1]?.detail.timestamp as number) <= (events[2]?.detail.timestamp as number)).toBe(true);
    });
  });

  describe('a torn batch read (a transaction committed between its items) is read again', () => {
    it('set_manager racing a transfer: the old owner gets 401, never "Cannot set the group creator."', async () => {
      // What CI once saw: set_manager's batch read returned the group item and the caller's member
      // item from before the transfer, the new owner's member item from after. Reproduced exactly:
      // the first batch read of the group keeps the "before" copies of those two items, lets the
      // transfer commit, then answers them with the new owner's item as the table now has it.
      const [owner, a] = users('owner', 'a');
      const groupId = await createGroup(owner, [a]);
      let torn = 0;
      let striking = false;
      onRequest((next, context) => async (args) => {
        if (context.commandName !== 'BatchGetItemCommand' || striking || torn > 0) return next(args);
        striking = true;
        const before = [await getItem(keys.group(groupId)), await getItem(keys.member(groupId, owner))];
        expect((await api.transfer(owner, { groupId, userId: a })).status).toBe(200);
        const result = await next(args);
        // lib-dynamodb has already unmarshalled the answer at this step.
        const output = result.output as { Responses?: Record<string, Record<string, unknown>[]> };
        const items = output.Responses?.[process.env.TABLE_NAME as string] ?? [];
        for (const old of before) {
          const at = items.findIndex((item) => item.pk === old?.pk && item.sk === old?.sk);
          expect(at).toBeGreaterThanOrEqual(0);
          items[at] = old as Record<string, unknown>;
        }
        torn++;
        return result;
      });

      const reply = await api.setManager(owner, { groupId, memberIds: [a] });

      expect(torn).toBe(1);
      expect(reply.status, JSON.stringify(reply.body)).toBe(401);
      expect(reply.body).toEqual({ code: 401, message: 'No permission to set up an manager.' });
      const group = await getItem(keys.group(groupId));
      expect({ creatorId: group?.creatorId, managerIds: group?.managerIds }).toEqual({ creatorId: a, managerIds: [] });
      expect((await getItem(keys.member(groupId, a)))?.role).toBe(0);
      expect((await getItem(keys.member(groupId, owner)))?.role).toBe(1);
    });

    it('kick racing a transfer to its target: the group read before it, the caller read after: 405 "Can not kick the host.", not 403', async () => {
      // kick reads the group item and the caller's member item in parallel (two GetItems). Here
      // the group item is read before the transfer commits and the caller's item after it (role 1):
      // a plain member's 403 would be an answer about a state that never existed.
      const [owner, target] = users('owner', 'target');
      const groupId = await createGroup(owner, [target, uniqueUserId('other')]);
      let groupRead: () => void = () => undefined;
      const groupReadDone = new Promise<void>((resolve) => (groupRead = resolve));
      const seen = { group: 0, caller: 0 };
      let striking = false;
      onCommand((next, context) => async (args) => {
        const key = (args.input as { Key?: { pk?: string; sk?: string } }).Key;
        if (context.commandName !== 'GetItemCommand' || striking || key?.pk !== keys.group(groupId).pk) return next(args);
        if (key.sk === keys.group(groupId).sk && seen.group++ === 0) {
          const result = await next(args);
          groupRead();
          return result;
        }
        if (key.sk === keys.member(groupId, owner).sk && seen.caller++ === 0) {
          await groupReadDone;
          striking = true;
          expect((await api.transfer(owner, { groupId, userId: target })).status).toBe(200);
          striking = false;
        }
        return next(args);
      });

      const reply = await api.kick(owner, { groupId, memberIds: [target] });

      expect(reply.status, JSON.stringify(reply.body)).toBe(405);
      expect(reply.body).toEqual({ code: 405, message: 'Can not kick the host.' });
      expect(seen.group).toBeGreaterThanOrEqual(2);
      expect((await getItem(keys.group(groupId)))?.creatorId).toBe(target);
      expect((await getItem(keys.member(groupId, target)))?.role).toBe(0);
    });
  });

  describe('read faults are retried and the read answers correctly', () => {
    const reads: Array<{ operation: Operation; fault: FaultName; times: number }> = [
      { operation: 'Query', fault: 'provisioned', times: 1 },
      { operation: 'Query', fault: 'timeout', times: 2 },
      { operation: 'BatchGetItem', fault: 'provisioned', times: 1 },
      { operation: 'BatchGetItem', fault: 'internal', times: 2 },
      { operation: 'GetItem', fault: 'throttling', times: 1 },
      { operation: 'GetItem', fault: 'hangUp', times: 2 },
    ];
    for (const { operation, fault, times } of reads) {
      it(`${operation}: ${fault} × ${times} while reading a group, its members and a user's groups`, async () => {
        const [owner, bob, carol] = users('owner', 'bob', 'carol');
        const groupId = await createGroup(owner, [bob, carol], 'Readable');
        const expected = {
          get: await api.get(bob, groupId),
          members: await api.members(bob, groupId),
          userGroups: await api.userGroups(bob),
        };
        expect(expected.get.status).toBe(200);
        const injection = inject(operation, faults[fault], firstN(times));
        const got = {
          get: await api.get(bob, groupId),
          members: await api.members(bob, groupId),
          userGroups: await api.userGroups(bob),
        };
        expect(injection.injected).toBe(times);
        expect(got.get.body).toEqual(expected.get.body);
        expect(got.members.body).toEqual(expected.members.body);
        expect(got.userGroups.body).toEqual(expected.userGroups.body);
      });
    }

    it('a read that keeps timing out ends in a 500 with the request id, after the SDK’s 4 attempts', async () => {
      const [owner, bob] = users('owner', 'bob');
      const groupId = await createGroup(owner, [bob]);
      const injection = inject('Query', faults.timeout, always);
      expectCleanFailure(await api.members(bob, groupId));
      expect(injection.calls).toBe(4);
    });
  });
});
