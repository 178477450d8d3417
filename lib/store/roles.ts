import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CLEANUP_GRACE_MS } from '../domain/janitor.ts';
import { StaleRead, type RoleStore } from '../domain/roles.ts';
import { Role, type Notice } from '../domain/model.ts';
import { logger } from '../log.ts';
import { batchGet, queryPrefix } from './batch.ts';
import { CommitCancelled, MAX_TRANSACTION_ITEMS } from './commit.ts';
import { parseNotice } from './items.ts';
import { writeIf } from './conditional.ts';
import { keys, memberIdOf } from './keys.ts';
import type { Guarded, MembershipWrites } from './membership.ts';

/**
 * Roles and the group's end: transfer, set/remove managers, dismiss and its cleanup.
 *
 * Every write is guarded by what the domain read (the group's owner, status and version, each
 * member's role): a failed guard is `StaleRead`, and the domain reads and decides again.
 *
 * The cleanup after a dismissal is resumable and idempotent: it works from what is still in the
 * table (members left, notices still waiting), and each member's delete commits with its group-count
 * decrement and their favourite's delete, so no run, retry or concurrent run ever counts a member
 * twice or leaves a favourite behind. After a kick or a quit, the leavers' favourites are deleted
 * (unless they are members again).
 */

/**
 * Writes per member-release transaction: each member's Delete and their profile's `ADD groupCount
 * -1` (2 writes; 50 members), plus their favourite's Delete for those who saved the group (3).
 */
const RELEASE_WRITES_PER_CHUNK = MAX_TRANSACTION_ITEMS;
/** Leavers whose favourite is removed per transaction: a check that they are not members, the Delete. */
const FAVOURITES_PER_CHUNK = Math.floor(MAX_TRANSACTION_ITEMS / 2);
/** Transactions of one cleanup in flight at once. */
const PARALLEL_CHUNKS = 4;
/** Notices expired per transaction (one update each). */
const NOTICES_PER_CHUNK = MAX_TRANSACTION_ITEMS;
/** Re-reads of the remaining members before a cleanup gives up (and its event is retried). */
const MAX_ROUNDS = 20;
/** Retries of one chunk whose transaction kept conflicting with another (a concurrent cleanup). */
const MAX_CHUNK_ATTEMPTS = 6;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stale = (what: string) => () => new StaleRead(what);

/** Runs `work` over `items`, at most `parallel` at once. */
const inParallel = async <T>(items: T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
};

/** Entries packed in order into chunks of at most `maxWrites` writes. */
const packed = <T extends { writes: readonly unknown[] }>(entries: T[], maxWrites: number): T[][] => {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const entry of entries) {
    if (size + entry.writes.length > maxWrites && current.length > 0) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += entry.writes.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

const chunksOf = <T>(items: T[], size: number): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

export const createRoleStore = (client: DynamoDBDocumentClient, tableName: string, m: MembershipWrites): RoleStore => {
  /** A user's favourite of the group, deleted if present (idempotent). */
  const deleteFavourite = (groupId: string, userId: string): Guarded => ({
    write: { Delete: { TableName: tableName, Key: keys.fav(userId, groupId) } },
  });

  /**
   * Commits entries (each a few guarded writes) in one transaction, where some entries may find
   * their item already done by another run (a member already released, a notice already expired):
   * those are dropped and the rest committed again. Returns the `id`s of the entries it committed.
   */
  const commitEach = async <T>(entries: { id: T; writes: Guarded[] }[], now: number): Promise<T[]> => {
    let pending = entries;
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        await m.commitGuarded(
          pending.flatMap((e) => e.writes),
          [],
          now,
        );
        return pending.map((e) => e.id);
      } catch (error) {
        if (!(error instanceof CommitCancelled)) throw error;
        const done = new Set<number>();
        let offset = 0;
        pending.forEach((entry, index) => {
          entry.writes.forEach((_, j) => {
            if (error.reasons[offset + j]?.code === 'ConditionalCheckFailed') done.add(index);
          });
          offset += entry.writes.length;
        });
        // Only conflicts with a concurrent transaction: back off, then give up (the caller re-reads).
        if (done.size === 0 && attempt >= MAX_CHUNK_ATTEMPTS) throw error;
        if (done.size === 0) await sleep(Math.random() * 25 * attempt);
        pending = pending.filter((_, index) => !done.has(index));
      }
    }
    return [];
  };

  /** Which of `userIds` saved the group (strongly consistent). */
  const savedAmong = async (groupId: string, userIds: readonly string[]): Promise<Set<string>> => {
    const items = await batchGet(client, tableName, userIds.map((userId) => keys.fav(userId, groupId)), true);
    return new Set(items.map((item) => String(item.userId)));
  };

  /** User ids of the members still in the group's partition (strongly consistent). */
  const remainingMembers = async (groupId: string): Promise<string[]> => {
    const items = await queryPrefix(client, tableName, keys.membersOf(groupId), 'sk');
    return items.map((item) => memberIdOf(item.sk as string));
  };

  /** The group's notices with whether a dismissal expired them (strongly consistent). */
  const noticesOf = async (groupId: string): Promise<{ notice: Notice; byDismissal: boolean }[]> => {
    const items = await queryPrefix(client, tableName, keys.noticesOf(groupId));
    return items.map((item) => ({ notice: parseNotice(item), byDismissal: item.dismissalExpiredAt !== undefined }));
  };

  return {
    snapshot: (groupId, userIds) => m.reads.snapshot(groupId, userIds),

    async dismiss({ group, ownerId, deletedAt, now, event }) {
      // The janitor's entry (replacing a regular-clear entry: a dismissed group is never cleared),
      // removed by the cleanup as its last step; still there when due, the janitor runs the cleanup.
      const repair = keys.repairSchedule(group.id, now + CLEANUP_GRACE_MS);
      await m.commitGuarded(
        [
          {
            write: {
              Update: {
                TableName: tableName,
                Key: keys.group(group.id),
                UpdateExpression:
                  'SET #status = :dismissed, deletedAt = :deletedAt, memberCount = :zero, updatedAt = :now, gsi2pk = :repairPk, gsi2sk = :repairSk ADD version :one',
                ConditionExpression: 'attribute_exists(pk) AND #status = :active AND creatorId = :owner AND version = :v',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':dismissed': 'dismissed',
                  ':active': 'active',
                  ':deletedAt': deletedAt,
                  ':zero': 0,
                  ':now': now,
                  ':one': 1,
                  ':owner': ownerId,
                  ':v': group.version,
                  ':repairPk': repair.gsi2pk,
                  ':repairSk': repair.gsi2sk,
                },
              },
            },
            fails: stale('group'),
          },
        ],
        [event],
        now,
      );
    },

    async transfer({ group, ownerId, target, now, event }) {
      // A manager who becomes owner leaves `managerIds` (by position, guarded by who is there).
      const index = group.managerIds.indexOf(target.userId);
      await m.commitGuarded(
        [
          {
            write: {
              Update: {
                TableName: tableName,
                Key: keys.group(group.id),
                UpdateExpression: `SET creatorId = :target, updatedAt = :now${index >= 0 ? ` REMOVE managerIds[${index}]` : ''} ADD version :one`,
                ConditionExpression: [
                  'attribute_exists(pk) AND #status = :active AND creatorId = :owner',
                  ...(index >= 0 ? [`managerIds[${index}] = :target`] : []),
                ].join(' AND '),
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':target': target.userId, ':owner': ownerId, ':active': 'active', ':now': now, ':one': 1 },
              },
            },
            fails: stale('group'),
          },
          m.writes.role(group.id, ownerId, 0, 1, now, stale('owner')),
          m.writes.role(group.id, target.userId, target.role, 0, now, stale('target')),
        ],
        [event],
        now,
      );
    },

    async setRoles({ group, ownerId, changes, maxManagers, now, event }) {
      // `managerIds` moves with the roles: appended within the limit, or removed by position
      // (guarded by who is there), so concurrent changes of other fields never conflict with it.
      const added = changes.filter((c) => c.to === Role.manager).map((c) => c.userId);
      const removed = changes
        .filter((c) => c.from === Role.manager)
        .map((c) => ({ userId: c.userId, index: group.managerIds.indexOf(c.userId) }))
        .filter((r) => r.index >= 0);
      const values: Record<string, unknown> = { ':now': now, ':one': 1, ':active': 'active', ':owner': ownerId };
      const conditions = ['attribute_exists(pk)', '#status = :active', 'creatorId = :owner'];
      if (added.length > 0) {
        values[':added'] = added;
        values[':room'] = maxManagers - added.length;
        conditions.push('size(managerIds) <= :room');
      }
      removed.forEach((r, i) => {
        values[`:removed${i}`] = r.userId;
        conditions.push(`managerIds[${r.index}] = :removed${i}`);
      });
      await m.commitGuarded(
        [
          {
            write: {
              Update: {
                TableName: tableName,
                Key: keys.group(group.id),
                UpdateExpression: [
                  `SET updatedAt = :now${added.length > 0 ? ', managerIds = list_append(managerIds, :added)' : ''}`,
                  ...(removed.length > 0 ? [`REMOVE ${removed.map((r) => `managerIds[${r.index}]`).join(', ')}`] : []),
                  'ADD version :one',
                ].join(' '),
                ConditionExpression: conditions.join(' AND '),
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: values,
              },
            },
            fails: stale('group'),
          },
          ...changes.map((c) => m.writes.role(group.id, c.userId, c.from, c.to, now, stale(`member ${c.userId}`))),
        ],
        [event],
        now,
      );
    },

    async releaseMembers(groupId) {
      let released = 0;
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const userIds = await remainingMembers(groupId);
        if (userIds.length === 0) return released;
        // Favourites go in the same transaction as their member (a dismissed group can no longer be
        // saved, so the favourites read here are all there will be): no run leaves one behind.
        const saved = await savedAmong(groupId, userIds);
        const entries = userIds.map((userId) => ({
          id: userId,
          // No `fails`: a member already released is dropped (commitEach), never counted again.
          writes: [...m.writes.leave(groupId, userId, undefined), ...(saved.has(userId) ? [deleteFavourite(groupId, userId)] : [])],
        }));
        // Start at a random chunk, so concurrent runs mostly work on different members.
        const chunks = packed(entries, RELEASE_WRITES_PER_CHUNK);
        const start = Math.floor(Math.random() * chunks.length);
        const ordered = [...chunks.slice(start), ...chunks.slice(0, start)];
        await inParallel(ordered, PARALLEL_CHUNKS, async (chunk) => {
          try {
            const done = await commitEach(chunk, Date.now());
            released += done.length;
          } catch (error) {
            // Kept conflicting with a concurrent run: the next round re-reads what is left.
            if (!(error instanceof CommitCancelled)) throw error;
            logger.debug('member release chunk conflicted; re-reading', { groupId });
          }
        });
      }
      throw new Error(`members of dismissed group ${groupId} still left after ${MAX_ROUNDS} rounds`);
    },

    async unschedule(groupId) {
      // The dismissal's repair entry (or, for a group dismissed before it had one, its regular-clear
      // entry). Only after the rest of the cleanup: no entry on a dismissed group means it is clean.
      // Nothing when not scheduled (or already unscheduled by an earlier run).
      await writeIf(() =>
        client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.group(groupId),
            UpdateExpression: 'REMOVE gsi2pk, gsi2sk',
            ConditionExpression: '#status = :dismissed AND attribute_exists(gsi2pk)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':dismissed': 'dismissed' },
          }),
        ),
      );
    },

    async removeFavourites(groupId, userIds) {
      let cleared = 0;
      await inParallel(chunksOf([...userIds], FAVOURITES_PER_CHUNK), PARALLEL_CHUNKS, async (chunk) => {
        // A user who is a member again fails the check and is dropped (commitEach): their
        // favourite, if any, was saved after they came back.
        const done = await commitEach(
          chunk.map((userId) => ({
            id: userId,
            writes: [
              {
                write: {
                  ConditionCheck: { TableName: tableName, Key: keys.member(groupId, userId), ConditionExpression: 'attribute_not_exists(pk)' },
                },
              },
              deleteFavourite(groupId, userId),
            ],
          })),
          Date.now(),
        );
        cleared += done.length;
      });
      return cleared;
    },

    async removeSpeakers(groupId, userIds) {
      const { group, members } = await m.reads.snapshot(groupId, userIds);
      if (!group || group.status !== 'active') return 0;
      const gone = group.muteWhitelist.filter((id) => userIds.includes(id) && !members.has(id));
      if (gone.length === 0) return 0;
      await m.commitGuarded(
        [
          {
            write: {
              Update: {
                TableName: tableName,
                Key: keys.group(groupId),
                UpdateExpression: 'SET muteWhitelist = :next',
                ConditionExpression: '#status = :active AND muteWhitelist = :read',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':next': group.muteWhitelist.filter((id) => !gone.includes(id)),
                  ':read': group.muteWhitelist,
                  ':active': 'active',
                },
              },
            },
            fails: stale('mute whitelist'),
          },
          ...gone.map((userId) => ({
            write: { ConditionCheck: { TableName: tableName, Key: keys.member(groupId, userId), ConditionExpression: 'attribute_not_exists(pk)' } },
            fails: stale('speaker membership'),
          })),
        ],
        [],
        Date.now(),
      );
      return gone.length;
    },

    async expireNotices({ groupId, now, keepS, event }) {
      const nowS = Math.floor(now / 1000);
      const notices = await noticesOf(groupId);
      // A waiting notice past its expiry is already gone for every reader: it is not expired again.
      const waiting = notices.filter(({ notice }) => notice.status === 2 && notice.expiresAt > nowS).map((n) => n.notice);
      let expired = 0;
      for (const chunk of chunksOf(waiting, NOTICES_PER_CHUNK)) {
        const done = await commitEach(
          chunk.map((notice) => ({
            id: notice,
            writes: [
              {
                write: {
                  Update: {
                    TableName: tableName,
                    Key: keys.notice(groupId, notice.type, notice.receiverId),
                    UpdateExpression: 'SET #status = :expired, #timestamp = :now, expiresAt = :expiresAt, dismissalExpiredAt = :now',
                    ConditionExpression: '#status = :waiting',
                    ExpressionAttributeNames: { '#status': 'status', '#timestamp': 'timestamp' },
                    ExpressionAttributeValues: { ':expired': 3, ':waiting': 2, ':now': now, ':expiresAt': nowS + keepS },
                  },
                },
              },
            ],
          })),
          now,
        );
        expired += done.length;
      }

      // Every notice the dismissal expired (by this run or an earlier or concurrent one) is now
      // marked; one event names their viewers, committed once (the group's `noticesExpiredAt`).
      const byDismissal = waiting.length > 0 ? (await noticesOf(groupId)).filter((n) => n.byDismissal) : notices.filter((n) => n.byDismissal);
      const recipientIds = [...new Set(byDismissal.flatMap(({ notice }) => notice.viewerIds))];
      if (recipientIds.length === 0) return expired;
      try {
        await m.commitGuarded(
          [
            {
              write: {
                Update: {
                  TableName: tableName,
                  Key: keys.group(groupId),
                  UpdateExpression: 'SET noticesExpiredAt = :now',
                  ConditionExpression: 'attribute_exists(pk) AND #status = :dismissed AND attribute_not_exists(noticesExpiredAt)',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':now': now, ':dismissed': 'dismissed' },
                },
              },
            },
          ],
          [event(recipientIds)],
          now,
        );
      } catch (error) {
        // Already announced by an earlier or concurrent run.
        if (!(error instanceof CommitCancelled) || error.firstFailed() !== 0) throw error;
      }
      return expired;
    },
  };
};
