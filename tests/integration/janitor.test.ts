import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, QueryCommand, type BatchWriteCommandInput, type BatchWriteCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, localClient } from '#infra/local/dynamodb.ts';
import { lambdaContext } from '#infra/local/gateway.ts';
import type * as AppModule from '#lib/app.ts';
import { copyGroup } from '#lib/domain/copy.ts';
import { createGroup as createGroupOp } from '#lib/domain/groups.ts';
import { CLEANUP_GRACE_MS, CREATION_STALE_MS, runJanitor, type JanitorSummary, type Repair } from '#lib/domain/janitor.ts';
import type { Deps } from '#lib/domain/ports.ts';
import type { Fields, Logger } from '#lib/log.ts';
import { batchGet, queryPrefix } from '#lib/store/batch.ts';
import type { Change, Commit } from '#lib/store/commit.ts';
import { createGroupRepository } from '#lib/store/groups.ts';
import { keys } from '#lib/store/keys.ts';
import { createMembershipWrites } from '#lib/store/membership.ts';
import { createRoleStore } from '#lib/store/roles.ts';
import { TABLE } from '#lib/store/table.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { db, eventsFor, getItem, groupItem, patch, tableName } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';
import { busEventOf } from './controls-helpers.ts';

/**
 * The janitor (functions/janitor.ts, lib/domain/janitor.ts) on DynamoDB Local. Requests are "killed"
 * by wrapping the store's commit (every transaction from a chosen one on throws, the compensation's
 * too), as a Lambda that dies mid-way leaves the table; the janitor's clock is injected through
 * `deps.now`. This file has a table of its own: its janitor passes see every due entry of the
 * table, and must not clean up other files' dismissed groups under their feet.
 */

let app: typeof AppModule;
let pass: (d: Deps, log: Logger, deadline?: number) => Promise<JanitorSummary>;
let handler: (event: unknown, context?: ReturnType<typeof lambdaContext>) => Promise<JanitorSummary>;
let cleanup: (event: EventBridgeEvent<string, unknown>) => Promise<void>;

beforeAll(async () => {
  const ddb = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB as string);
  const table = `sealtalk-test-janitor-${randomBytes(4).toString('hex')}`;
  // No stream: nothing relays this file's events, and DynamoDB Local's writes slow down as a stream grows.
  await ensureTable(ddb, table, undefined, { stream: false });
  ddb.destroy();
  process.env.TABLE_NAME = table;
  // Only now: the handlers and the app read TABLE_NAME when they load.
  app = await import('#lib/app.ts');
  ({ janitorPass: pass, handler } = await import('#functions/janitor.ts'));
  ({ handler: cleanup } = await import('#functions/group-cleanup.ts'));
});

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** The app's deps with the clock at `now`. */
const at = (now: number, extra: Partial<Deps> = {}): Deps => ({ ...app.deps, now: () => now, ...extra });

/** One janitor pass at `now`: the summary, and the repairs reported for one group. */
const janitor = async (now: number, d: Deps = at(now)) => {
  const repairs: Repair[] = [];
  const failures: (string | null)[] = [];
  const summary = await runJanitor(d, { repaired: (r) => repairs.push(r), failed: (groupId) => failures.push(groupId) });
  return { summary, failures, of: (groupId: string) => repairs.filter((r) => r.groupId === groupId) };
};

/** A logger that keeps its lines. */
const capture = () => {
  const lines: { level: string; message: string; fields: Fields }[] = [];
  const log: Logger = {
    debug: (message, fields = {}) => lines.push({ level: 'debug', message, fields }),
    info: (message, fields = {}) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields = {}) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields = {}) => lines.push({ level: 'error', message, fields }),
    child: () => log,
  };
  return { log, lines };
};

/** Profiles with a group count (and `groupVerify`), 25 per batch. */
const seedProfiles = async (profiles: { userId: string; groupCount: number; groupVerify?: number }[]) => {
  const batches: (typeof profiles)[] = [];
  for (let i = 0; i < profiles.length; i += 25) batches.push(profiles.slice(i, i + 25));
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches.slice(i, i + 8).map(async (batch) => {
        let pending: NonNullable<BatchWriteCommandInput['RequestItems']>[string] | undefined = batch.map((p) => ({
          PutRequest: { Item: { ...keys.profile(p.userId), kind: 'profile', groupVerify: 1, ...p } },
        }));
        while (pending && pending.length > 0) {
          const out: BatchWriteCommandOutput = await db.send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
          pending = out.UnprocessedItems?.[tableName()];
        }
      }),
    );
  }
};

/** Each user's group count, in the order given (strongly consistent). */
const groupCounts = async (userIds: readonly string[]): Promise<(number | undefined)[]> => {
  const items = await batchGet(db, tableName(), userIds.map(keys.profile), true);
  const byUser = new Map(items.map((item) => [item.userId as string, item.groupCount as number]));
  return userIds.map((u) => byUser.get(u));
};

/** Whether the janitor's query (the group's REPAIR shard, due by `now`) shows the group. */
const dueOnIndex = async (groupId: string, now: number): Promise<boolean> => {
  const out = await db.send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: TABLE.gsi2.name,
      KeyConditionExpression: 'gsi2pk = :shard AND gsi2sk < :before',
      ExpressionAttributeValues: { ':shard': keys.repairSchedule(groupId, 0).gsi2pk, ':before': keys.scheduleDueBefore(now) },
    }),
  );
  return (out.Items ?? []).some((item) => item.groupId === groupId);
};

/** Items of a group's partition whose sort key starts with `prefix` (a strongly consistent query, not a scan). */
const partitionItems = (groupId: string, prefix: string) => queryPrefix(db, tableName(), { pk: keys.group(groupId).pk, skPrefix: prefix });

/** Waits (no timing asserted) until `n` member items of the group are written. */
const untilMembers = async (groupId: string, n: number) => {
  while ((await partitionItems(groupId, 'MEMBER#')).length < n) await new Promise((resolve) => setTimeout(resolve, 20));
};

/** What is left of a creation: the group item, member items, notices, the invitees' pointers, counts. */
const leftOf = async (groupId: string, userIds: readonly string[], invited: readonly string[]) => ({
  group: await groupItem(groupId),
  members: (await partitionItems(groupId, 'MEMBER#')).length,
  notices: (await partitionItems(groupId, 'NOTICE#')).length,
  inboxes: (await Promise.all(invited.map((v) => getItem(keys.inbox(v, groupId, 1, v))))).filter(Boolean).length,
  counts: await groupCounts(userIds),
});

/**
 * A commit that dies with its Lambda: the first transaction `dies` picks and every later one throw
 * (so the request's compensation dies too). `hold` delays one transaction until the test lets it go.
 */
const dyingCommit = (dies: (change: Change) => boolean, hold?: { token: (change: Change) => boolean; until: Promise<void> }): Commit => {
  let dead = false;
  return async (change, now) => {
    if (hold?.token(change)) {
      await hold.until;
      // A transaction that lands late; the Lambda died right after it.
      try {
        return await app.store.commit(change, now);
      } finally {
        dead = true;
      }
    }
    if (dead || dies(change)) {
      dead = true;
      throw new Error('the Lambda was killed');
    }
    return app.store.commit(change, now);
  };
};

const isFinal = (change: Change) => change.token?.endsWith('-final') === true;
/** Lets `n` transactions through (chunk 0 first, then parallel waves), then dies. */
const after = (n: number) => {
  let seen = 0;
  return () => ++seen > n;
};

interface HalfCreated {
  groupId: string;
  owner: string;
  /** The owner and the seated members, with their counts before the creation. */
  members: string[];
  before: number[];
  invited: string[];
  createdAt: number;
  /** The request (rejected: it died). */
  request: Promise<unknown>;
}

/**
 * Creates a group of `seated` members (the owner included) and `invited` invitees through the real
 * domain operation on a store whose commit dies as `commit` says. Members start in 0–2 other groups.
 */
const halfCreate = async (
  seated: number,
  invited: number,
  commit: Commit,
  options: { createdAt?: number; settle?: boolean } = {},
): Promise<HalfCreated> => {
  const owner = uniqueUserId('owner');
  const others = Array.from({ length: seated - 1 }, (_, i) => `${owner}-s${String(i).padStart(4, '0')}`);
  const invitees = Array.from({ length: invited }, (_, i) => `${owner}-i${i}`);
  const members = [owner, ...others];
  const before = members.map((_, i) => i % 3);
  await seedProfiles([
    ...members.map((userId, i) => ({ userId, groupCount: before[i] as number })),
    ...invitees.map((userId) => ({ userId, groupCount: 0, groupVerify: 0 })),
  ]);
  const createdAt = options.createdAt ?? Date.now();
  const groupId = app.deps.newGroupId();
  const d = at(createdAt, {
    newGroupId: () => groupId,
    groups: createGroupRepository(app.store.client, tableName(), commit),
    limits: { ...app.deps.limits, maxGroupMembers: 3000 },
  });
  const request = createGroupOp(d, owner, { name: 'Half written', memberIds: [...others, ...invitees] });
  request.catch(() => undefined);
  if (options.settle !== false) await expect(request).rejects.toThrow();
  return { groupId, owner, members, before, invited: invitees, createdAt, request };
};

describe('janitor: creations a dead request left behind', () => {
  it('undoes a creation whose request died before its last transaction: members, counts, notices, pointers, group item and entry', async () => {
    const h = await halfCreate(120, 3, dyingCommit(isFinal));
    const due = h.createdAt + CREATION_STALE_MS;

    // Every chunk landed, the activation did not: invisible, counted, scheduled for the janitor.
    expect(await groupItem(h.groupId)).toMatchObject({ status: 'creating', ...keys.repairSchedule(h.groupId, due) });
    expect(await leftOf(h.groupId, h.members, h.invited)).toMatchObject({ members: 120, notices: 3, inboxes: 3, counts: h.before.map((c) => c + 1) });
    expect(await dueOnIndex(h.groupId, due)).toBe(true);
    expect((await api.get(h.owner, h.groupId)).status).toBe(404);
    expect((await api.members(h.owner, h.groupId)).status).toBe(404);
    const notices = (await api.noticeInfo(h.invited[0] as string)).body.result as { group: { id: string } }[];
    expect(notices.map((n) => n.group.id)).not.toContain(h.groupId);

    const run = await janitor(due);
    expect(run.of(h.groupId)).toEqual([
      { groupId: h.groupId, kind: 'undone', from: 'creating', released: 120, notices: 3, inboxes: 3, groupRemoved: true },
    ]);
    expect(run.failures).toEqual([]);
    expect(await leftOf(h.groupId, h.members, h.invited)).toEqual({ group: undefined, members: 0, notices: 0, inboxes: 0, counts: h.before });
    expect(await dueOnIndex(h.groupId, due + DAY)).toBe(false);
    expect(await eventsFor(h.groupId)).toEqual([]);
    expect((await api.get(h.owner, h.groupId)).status).toBe(404);

    // Nothing is found again: the entry went with the group item.
    expect((await janitor(due + DAY)).of(h.groupId)).toEqual([]);
    expect(await groupCounts(h.members)).toEqual(h.before);
  });

  it('undoes a creation half-written by a request that died between its member chunks', async () => {
    // Chunk 0 (the group and its owner) and two of the first wave's member chunks, then death.
    const h = await halfCreate(300, 0, dyingCommit(after(3)));
    const written = await partitionItems(h.groupId, 'MEMBER#');
    expect(written).toHaveLength(1 + 2 * 50);
    expect(await groupItem(h.groupId)).toMatchObject({ status: 'creating' });

    const run = await janitor(h.createdAt + CREATION_STALE_MS);
    expect(run.of(h.groupId)).toMatchObject([{ kind: 'undone', from: 'creating', released: 101, groupRemoved: true }]);
    expect(await leftOf(h.groupId, h.members, [])).toEqual({ group: undefined, members: 0, notices: 0, inboxes: 0, counts: h.before });
  });

  it('leaves a creation younger than 5 minutes alone (and invisible)', async () => {
    const h = await halfCreate(80, 1, dyingCommit(isFinal));
    const state = await leftOf(h.groupId, h.members, h.invited);
    expect(state).toMatchObject({ group: { status: 'creating' }, members: 80, notices: 1, inboxes: 1 });

    for (const now of [h.createdAt, h.createdAt + CREATION_STALE_MS - 1]) {
      const run = await janitor(now);
      expect(run.of(h.groupId)).toEqual([]);
      expect(await leftOf(h.groupId, h.members, h.invited)).toEqual(state);
      expect((await api.get(h.owner, h.groupId)).status).toBe(404);
    }
    expect(await dueOnIndex(h.groupId, h.createdAt + CREATION_STALE_MS - 1)).toBe(false);

    // Once it is 5 minutes old it is undone.
    expect((await janitor(h.createdAt + CREATION_STALE_MS)).of(h.groupId)).toMatchObject([{ kind: 'undone', released: 80 }]);
    expect(await groupCounts(h.members)).toEqual(h.before);
  });

  it('releases each count exactly once when two janitors undo the same large creation at once', { timeout: 120_000 }, async () => {
    const h = await halfCreate(300, 5, dyingCommit(isFinal));
    expect(await groupCounts(h.members)).toEqual(h.before.map((c) => c + 1));
    const now = h.createdAt + CREATION_STALE_MS;

    const [a, b] = await Promise.all([janitor(now), janitor(now)]);
    const undone = [...a.of(h.groupId), ...b.of(h.groupId)].flatMap((r) => (r.kind === 'undone' ? [r] : []));
    expect(undone.length).toBeGreaterThanOrEqual(1);
    // Each member released by exactly one of them; one of them removed the group item.
    expect(undone.reduce((n, r) => n + r.released, 0)).toBe(300);
    expect(undone.filter((r) => r.groupRemoved)).toHaveLength(1);
    expect(await leftOf(h.groupId, h.members, h.invited)).toEqual({ group: undefined, members: 0, notices: 0, inboxes: 0, counts: h.before });

    // A third pass finds nothing.
    expect((await janitor(now + MINUTE)).of(h.groupId)).toEqual([]);
    expect(await groupCounts(h.members)).toEqual(h.before);
  });

  it('a request still running when its creation is abandoned can no longer make it visible; the next pass undoes it', async () => {
    let release = () => {};
    const until = new Promise<void>((resolve) => (release = resolve));
    // Every chunk lands; the final transaction is held back; the Lambda dies right after it.
    const h = await halfCreate(250, 0, dyingCommit(() => false, { token: isFinal, until }), { settle: false });
    const now = h.createdAt + CREATION_STALE_MS;
    await untilMembers(h.groupId, 250);

    // The janitor's first step: of the abandonment and the still-running request, the janitor won.
    expect(await app.deps.janitor.abandon(h.groupId, now)).toBe(true);
    release();
    await expect(h.request).rejects.toThrow();
    expect(await groupItem(h.groupId)).toMatchObject({ status: 'abandoned' });
    expect((await api.get(h.owner, h.groupId)).status).toBe(404);
    expect(await eventsFor(h.groupId)).toEqual([]);

    const run = await janitor(now);
    expect(run.of(h.groupId)).toMatchObject([{ kind: 'undone', from: 'abandoned', released: 250, groupRemoved: true }]);
    expect(await leftOf(h.groupId, h.members, [])).toEqual({ group: undefined, members: 0, notices: 0, inboxes: 0, counts: h.before });
  });

  it('a request that wakes up after the janitor undid its creation makes nothing visible and releases nobody twice', async () => {
    let release = () => {};
    const until = new Promise<void>((resolve) => (release = resolve));
    // The final transaction is held; when it is refused, the request compensates (its commit still works).
    const commit: Commit = async (change, now) => {
      if (isFinal(change)) await until;
      return app.store.commit(change, now);
    };
    const h = await halfCreate(250, 0, commit, { settle: false });
    await untilMembers(h.groupId, 250);

    const run = await janitor(h.createdAt + CREATION_STALE_MS);
    expect(run.of(h.groupId)).toMatchObject([{ kind: 'undone', released: 250, groupRemoved: true }]);
    release();
    // The final activation finds no `creating` group; the compensation's deletes find the members
    // gone and fail with them, so no count moves a second time.
    await expect(h.request).rejects.toThrow();
    expect(await leftOf(h.groupId, h.members, [])).toEqual({ group: undefined, members: 0, notices: 0, inboxes: 0, counts: h.before });
    expect(await eventsFor(h.groupId)).toEqual([]);
  });

  it('finishes an undo a janitor left half-done; a failing group does not stop the others, and the pass fails at the end', async () => {
    const a = await halfCreate(150, 2, dyingCommit(isFinal));
    const b = await halfCreate(150, 0, dyingCommit(isFinal), { createdAt: a.createdAt });
    const now = a.createdAt + CREATION_STALE_MS;
    // The first janitor's Lambda dies while releasing a's members (after two transactions).
    const dying = createRoleStore(app.store.client, tableName(), createMembershipWrites(app.store.client, tableName(), dyingCommit(after(2))));
    const roles = { ...app.deps.roles, releaseMembers: (id: string) => (id === a.groupId ? dying.releaseMembers(id) : app.deps.roles.releaseMembers(id)) };
    const { log, lines } = capture();

    await expect(pass(at(now, { roles }), log)).rejects.toThrow(/1 repair\(s\) failed.*the rest was done/);
    expect(lines).toContainEqual({ level: 'error', message: 'janitor repair failed', fields: { groupId: a.groupId, error: expect.any(Error) } });
    expect(lines).toContainEqual({
      level: 'info',
      message: 'abandoned group creation undone',
      fields: { groupId: b.groupId, from: 'creating', released: 150, notices: 0, inboxes: 0, groupRemoved: true },
    });
    expect(lines.find((l) => l.message === 'janitor pass done')?.fields).toMatchObject({ failed: 1, undone: expect.any(Number) });
    expect(await leftOf(b.groupId, b.members, [])).toEqual({ group: undefined, members: 0, notices: 0, inboxes: 0, counts: b.before });

    // a: abandoned, partly released, still scheduled; invisible.
    const half = await leftOf(a.groupId, a.members, a.invited);
    expect(half.group).toMatchObject({ status: 'abandoned', ...keys.repairSchedule(a.groupId, now) });
    expect(half.members).toBeGreaterThan(0);
    expect(half.members).toBeLessThan(150);
    expect((await api.get(a.owner, a.groupId)).status).toBe(404);

    const next = capture();
    const summary = await pass(at(now + 10 * MINUTE), next.log);
    expect(summary).toMatchObject({ failed: 0 });
    expect(next.lines).toContainEqual({
      level: 'info',
      message: 'abandoned group creation undone',
      // (Its notices may have gone in the first pass already: they are removed alongside the members.)
      fields: { groupId: a.groupId, from: 'abandoned', released: half.members, notices: expect.any(Number), inboxes: expect.any(Number), groupRemoved: true },
    });
    expect(await leftOf(a.groupId, a.members, a.invited)).toEqual({ group: undefined, members: 0, notices: 0, inboxes: 0, counts: a.before });
  });

  it('undoes an abandoned copy without ever marking its source copied', async () => {
    const owner = uniqueUserId('owner');
    const others = Array.from({ length: 59 }, (_, i) => `${owner}-m${i}`);
    const source = await createGroup(owner, others);
    expect(await groupItem(source)).toMatchObject({ status: 'active', memberCount: 60 });
    expect(await groupItem(source)).not.toHaveProperty('gsi2pk');
    const members = [owner, ...others];
    expect(await groupCounts(members)).toEqual(members.map(() => 1));

    // Past the source's protection period; the copy's request dies before its last transaction
    // (the one that would set the source's copiedTime).
    const now = Date.now() + 8 * DAY;
    let copyId = '';
    const dying = at(now, {
      newGroupId: () => (copyId = app.deps.newGroupId()),
      groups: createGroupRepository(app.store.client, tableName(), dyingCommit(isFinal)),
    });
    await expect(copyGroup(dying, owner, { groupId: source, name: 'The copy' })).rejects.toThrow('killed');
    expect(await groupItem(copyId)).toMatchObject({ status: 'creating' });
    expect(await groupCounts(members)).toEqual(members.map(() => 2));
    expect((await groupItem(source))?.copiedTime ?? 0).toBe(0);

    const run = await janitor(now + CREATION_STALE_MS);
    expect(run.of(copyId)).toMatchObject([{ kind: 'undone', released: 60, groupRemoved: true }]);
    expect(await groupCounts(members)).toEqual(members.map(() => 1));
    expect(await groupItem(source)).toMatchObject({ status: 'active', memberCount: 60, copiedTime: 0 });
    expect(run.of(source)).toEqual([]);

    // Not counted as copied: a copy now goes through.
    const copied = await copyGroup(at(now + CREATION_STALE_MS), owner, { groupId: source, name: 'The copy' });
    expect(await groupItem(copied.id)).toMatchObject({ status: 'active', memberCount: 60 });
    expect(await groupItem(copied.id)).not.toHaveProperty('gsi2pk');
    expect((await groupItem(source))?.copiedTime).toBe(now + CREATION_STALE_MS);
  });
});


/** The due time of the group's repair entry (from the item), or null. */
const repairDueOf = async (groupId: string): Promise<number | null> => {
  const item = await groupItem(groupId);
  if (typeof item?.gsi2pk !== 'string' || !item.gsi2pk.startsWith('REPAIR#')) return null;
  return Number(String(item.gsi2sk).slice(0, 15));
};

describe('janitor: dismissals whose cleanup did not finish', () => {
  it('cleans up a dismissed group whose cleanup never ran, 10 minutes after the dismissal, and removes its entry', async () => {
    const [owner, bob, carol, shy] = ['owner', 'bob', 'carol', 'shy'].map(uniqueUserId) as [string, string, string, string];
    await api.userGroups({ sub: shy, group_verify: '0' });
    const id = await createGroup(owner, [bob, carol, shy]);
    expect(await groupItem(id)).not.toHaveProperty('gsi2pk');
    expect((await api.favAdd(bob, { groupId: id })).body).toEqual({ code: 200 });
    const before = Date.now();
    expect((await api.dismiss(owner, { groupId: id })).body).toEqual({ code: 200 });

    const due = (await repairDueOf(id)) as number;
    expect(due).toBeGreaterThanOrEqual(before + CLEANUP_GRACE_MS);
    expect(due).toBeLessThanOrEqual(Date.now() + CLEANUP_GRACE_MS);
    expect(await groupItem(id)).toMatchObject({ status: 'dismissed', ...keys.repairSchedule(id, due) });

    // No consumer ran. Before the grace period is over, the janitor leaves it to the consumer.
    expect((await janitor(due - 1)).of(id)).toEqual([]);
    expect(await partitionItems(id, 'MEMBER#')).toHaveLength(3);

    const run = await janitor(due);
    expect(run.of(id)).toEqual([{ groupId: id, kind: 'resumed', released: 3, expired: 1 }]);
    expect(await partitionItems(id, 'MEMBER#')).toEqual([]);
    expect(await groupCounts([owner, bob, carol])).toEqual([0, 0, 0]);
    expect(await getItem(keys.fav(bob, id))).toBeUndefined();
    expect(await getItem(keys.notice(id, 1, shy))).toMatchObject({ status: 3 });
    expect((await eventsFor(id)).filter((e) => e.detailType === 'NoticesExpired').map((e) => e.detail.recipientIds)).toEqual([[shy]]);
    expect(await groupItem(id)).toMatchObject({ status: 'dismissed' });
    expect(await groupItem(id)).not.toHaveProperty('gsi2pk');
    expect(((await api.get(bob, id)).body.result as { deletedAt: string | null }).deletedAt).toEqual(expect.any(String));

    // Done once: the next pass finds nothing, and the late consumer changes nothing.
    expect((await janitor(due + DAY)).of(id)).toEqual([]);
    await cleanup(await busEventOf(id, 'GroupDismissed'));
    expect(await groupCounts([owner, bob, carol])).toEqual([0, 0, 0]);
    expect((await eventsFor(id)).filter((e) => e.detailType === 'NoticesExpired')).toHaveLength(1);
  });

  it('schedules the dismissal of the last member quitting the same way', async () => {
    const [owner, bob] = ['owner', 'bob'].map(uniqueUserId) as [string, string];
    const id = await createGroup(owner, [bob]);
    expect((await api.kick(owner, { groupId: id, memberIds: [bob] })).body).toEqual({ code: 200 });
    const before = Date.now();
    expect((await api.quit(owner, { groupId: id })).body).toEqual({ code: 200 });
    const due = (await repairDueOf(id)) as number;
    expect(due).toBeGreaterThanOrEqual(before + CLEANUP_GRACE_MS);
    expect(await groupItem(id)).toMatchObject({ status: 'dismissed', memberCount: 0 });

    const run = await janitor(due);
    expect(run.of(id)).toEqual([{ groupId: id, kind: 'resumed', released: 0, expired: 0 }]);
    expect(await groupItem(id)).not.toHaveProperty('gsi2pk');
    expect(await groupCounts([owner, bob])).toEqual([0, 0]);
  });

  it('a dismissal replaces the regular-clear entry; once the consumer cleaned up, no entry is left', async () => {
    const [owner, bob] = ['owner', 'bob'].map(uniqueUserId) as [string, string];
    const id = await createGroup(owner, [bob]);
    expect((await api.setRegularClear(owner, { groupId: id, clearStatus: 3 })).body).toEqual({ code: 200 });
    const clearing = await groupItem(id);
    expect(clearing).toMatchObject(keys.clearSchedule(id, clearing?.clearTimeAt as number));

    expect((await api.dismiss(owner, { groupId: id })).body).toEqual({ code: 200 });
    const due = (await repairDueOf(id)) as number;
    // Out of the regular-clear schedule at once, into the janitor's.
    expect(await groupItem(id)).toMatchObject({ status: 'dismissed', clearStatus: 3, ...keys.repairSchedule(id, due) });

    await cleanup(await busEventOf(id, 'GroupDismissed'));
    expect(await groupItem(id)).not.toHaveProperty('gsi2pk');
    expect(await dueOnIndex(id, due + DAY)).toBe(false);
    expect((await janitor(due + DAY)).of(id)).toEqual([]);
    expect(await groupCounts([owner, bob])).toEqual([0, 0]);
  });
});

describe('janitor: stale entries', () => {
  it('removes the repair entry of an active group (never a regular-clear entry) and logs it', async () => {
    const [owner, bob] = ['owner', 'bob'].map(uniqueUserId) as [string, string];
    const id = await createGroup(owner, [bob]);
    const dueAt = Date.now() - MINUTE;
    await patch(keys.group(id), keys.repairSchedule(id, dueAt));
    const clearing = await createGroup(owner, [bob]);
    expect((await api.setRegularClear(owner, { groupId: clearing, clearStatus: 7 })).body).toEqual({ code: 200 });
    const clearingBefore = await groupItem(clearing);
    const rest: Record<string, unknown> = { ...(await groupItem(id)) };
    delete rest.gsi2pk;
    delete rest.gsi2sk;

    // The deployed handler, on the real clock.
    const summary = await handler({}, lambdaContext('janitor', 300_000));
    expect(summary.stale).toBeGreaterThanOrEqual(1);
    expect(summary.failed).toBe(0);
    expect(await groupItem(id)).toEqual(rest);
    expect(await groupItem(clearing)).toEqual(clearingBefore);
    expect((await api.get(owner, id)).body.code).toBe(200);

    // An entry the index still shows for a group that is gone: nothing to remove, counted stale.
    const gone = app.deps.newGroupId();
    const d = at(Date.now(), {
      janitor: {
        ...app.deps.janitor,
        due: async (now) => {
          const due = await app.deps.janitor.due(now);
          return { ...due, entries: [...due.entries, { groupId: gone, dueAt: now - 1 }] };
        },
      },
    });
    const { log, lines } = capture();
    expect((await pass(d, log)).stale).toBeGreaterThanOrEqual(1);
    expect(lines).toContainEqual({ level: 'info', message: 'stale repair entry', fields: { groupId: gone, status: 'missing', removed: false } });
  });
});
