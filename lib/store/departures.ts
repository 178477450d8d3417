import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  Stale,
  NOT_MEMBER,
  type Departure,
  type DepartureStore,
  type KickPlan,
} from '../domain/departures.ts';
import { Forbidden, NotFound } from '../domain/errors.ts';
import { CLEANUP_GRACE_MS } from '../domain/janitor.ts';
import { UNKNOWN_GROUP } from '../domain/groups.ts';
import { Role } from '../domain/model.ts';
import type { DomainEvent } from '../events/index.ts';
import { queryPrefix } from './batch.ts';
import { CommitCancelled, MAX_TRANSACTION_ITEMS } from './commit.ts';
import { parseExit } from './items.ts';
import { keys } from './keys.ts';
import type { Guarded, MembershipWrites } from './membership.ts';

/**
 * Departures: kick, quit, the exited list. Every departure is ONE transaction of the group update
 * (active, `memberCount` − n, the operator's role, `managerIds`), each leaver's member item
 * (still there, with the role read), their group count −1 and their exit record, plus the events.
 *
 * Kicks larger than one transaction are written in chunks, each a complete, exact transaction of
 * its own (its members, their counts and records, its own `memberCount` decrement, the same
 * guards). The first chunk carries the `MembersKicked` event and is written alone, so no member is
 * ever removed without the event; chunks that change `managerIds` follow one by one (each guards
 * the list the previous one left); the plain members' chunks then go in parallel waves. If a chunk
 * fails, the chunks already committed stay committed (each is exact on its own) and the error is
 * reported: a failed condition as its domain error, a concurrent change (a leaver gone or with
 * another role, the group moved) as `Stale` naming the members still to remove (the domain
 * re-decides for them).
 */

/** Plain members' chunks written at once. */
const PARALLEL_CHUNKS = 4;
/** Members per transaction: 1 group update + 3 items per member (member, group count, exit record). */
const PER_CHUNK = Math.floor((MAX_TRANSACTION_ITEMS - 1) / 3);
/** Members in the chunk that also carries the event. */
const PER_FIRST_CHUNK = Math.floor((MAX_TRANSACTION_ITEMS - 2) / 3);

const isGone = (old: Record<string, unknown> | undefined): boolean => !old || old.status !== 'active';
/** The group update failed: the group is gone, or something the decision read changed (decide again). */
const groupFails = (old: Record<string, unknown> | undefined): Error => (isGone(old) ? new NotFound(UNKNOWN_GROUP) : new Stale());
/** A leaver's member item is not as read: gone (`missing`), or with another role (decide again). */
const memberFails =
  (missing: () => Error) =>
  (old: Record<string, unknown> | undefined): Error =>
    old ? new Stale() : missing();

interface GroupExtra {
  set: string[];
  condition: string[];
  values: Record<string, unknown>;
}

/** Leaving managers out of `managerIds`: the new list, guarded by the list the decision read. */
const managersWithout = (read: readonly string[], leaving: readonly string[]): GroupExtra => {
  const gone = leaving.filter((id) => read.includes(id));
  if (gone.length === 0) return { set: [], condition: [], values: {} };
  return {
    set: ['managerIds = :managers'],
    condition: ['managerIds = :managersRead'],
    values: { ':managers': read.filter((id) => !gone.includes(id)), ':managersRead': [...read] },
  };
};

const merge = (...parts: GroupExtra[]): GroupExtra => ({
  set: parts.flatMap((p) => p.set),
  condition: parts.flatMap((p) => p.condition),
  values: Object.assign({}, ...parts.map((p) => p.values)) as Record<string, unknown>,
});

export const createDepartureStore = (client: DynamoDBDocumentClient, tableName: string, m: MembershipWrites): DepartureStore => {
  const { writes: w, reads } = m;

  /** One transaction; a cancellation no condition explains (conflicts that outlasted the retries) is Stale. */
  const commit = async (guarded: Guarded[], events: DomainEvent[], now: number): Promise<void> => {
    try {
      await m.commitGuarded(guarded, events, now);
    } catch (error) {
      throw error instanceof CommitCancelled ? new Stale() : error;
    }
  };

  const leaving = (groupId: string, d: Departure, missing: () => Error): Guarded[] => [
    ...w.leave(groupId, d.member.userId, memberFails(missing), d.member.role),
    w.exit(d.exit),
  ];

  const kickChunk = async (plan: KickPlan, chunk: Departure[], managersRead: readonly string[], events: DomainEvent[]) => {
    const { groupId, now, operator } = plan;
    const authority: GroupExtra =
      operator.role === Role.owner
        ? { set: [], condition: ['creatorId = :operator'], values: { ':operator': operator.userId } }
        : { set: [], condition: ['contains(managerIds, :operator)'], values: { ':operator': operator.userId } };
    const managers = managersWithout(
      managersRead,
      chunk.filter((d) => d.member.role === Role.manager).map((d) => d.member.userId),
    );
    const extra = merge(authority, managers);
    await commit(
      [
        w.group(groupId, -chunk.length, now, groupFails, extra),
        // A leaver gone since the read is a change like any other: the domain reads and decides again.
        ...chunk.flatMap((d) => leaving(groupId, d, () => new Stale())),
      ],
      events,
      now,
    );
    return managers.values[':managers'] as string[] | undefined;
  };

  return {
    member: (groupId, userId) => reads.member(groupId, userId),
    members: (groupId, userIds) => reads.members(groupId, userIds),

    async exits(groupId) {
      const items = await queryPrefix(client, tableName, keys.exitedOf(groupId));
      return items.map(parseExit);
    },

    async kick(plan) {
      const first = plan.event ? PER_FIRST_CHUNK : PER_CHUNK;
      const chunks: Departure[][] = [plan.departures.slice(0, first)];
      for (let i = first; i < plan.departures.length; i += PER_CHUNK) chunks.push(plan.departures.slice(i, i + PER_CHUNK));

      const done = new Set<string>();
      let announced = false;
      const stale = () =>
        new Stale(
          plan.departures.map((d) => d.member.userId).filter((id) => !done.has(id)),
          announced,
        );

      // The first chunk (with the event) and every chunk that removes managers, one after the
      // other: each guards the `managerIds` the previous one left. Managers come first in the plan.
      let managers: readonly string[] = plan.managerIds;
      let next = 0;
      while (next < chunks.length && (next === 0 || chunks[next]?.some((d) => d.member.role === Role.manager))) {
        const chunk = chunks[next] as Departure[];
        try {
          managers = (await kickChunk(plan, chunk, managers, next === 0 && plan.event ? [plan.event] : [])) ?? managers;
        } catch (error) {
          throw error instanceof Stale ? stale() : error;
        }
        chunk.forEach((d) => done.add(d.member.userId));
        if (next === 0) announced = plan.event !== null;
        next++;
      }

      // Plain members only: independent of each other, in parallel waves.
      const rest = chunks.slice(next);
      for (let i = 0; i < rest.length; i += PARALLEL_CHUNKS) {
        const wave = rest.slice(i, i + PARALLEL_CHUNKS);
        const results = await Promise.allSettled(wave.map((chunk) => kickChunk(plan, chunk, managers, [])));
        results.forEach((r, j) => {
          if (r.status === 'fulfilled') wave[j]?.forEach((d) => done.add(d.member.userId));
        });
        const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        // A definite answer (a domain error, a bug) wins over "changed, decide again".
        const definite = errors.find((e) => !(e instanceof Stale));
        if (definite !== undefined) throw definite;
        if (errors.length > 0) throw stale();
      }
    },

    async quit(plan) {
      const { groupId, now, departure, events } = plan;
      const me = departure.member;
      const mine = leaving(groupId, departure, () => new Forbidden(NOT_MEMBER));
      switch (plan.kind) {
        case 'leave': {
          // The member item's role guard (1 or 2, as read) also says the leaver is not the owner.
          const managers = managersWithout(plan.managerIds, me.role === Role.manager ? [me.userId] : []);
          await commit([w.group(groupId, -1, now, groupFails, managers), ...mine], events, now);
          return;
        }
        case 'handOver': {
          const { successor } = plan;
          const extra = merge(
            { set: ['creatorId = :successor'], condition: ['creatorId = :owner'], values: { ':successor': successor.userId, ':owner': me.userId } },
            managersWithout(plan.managerIds, successor.role === Role.manager ? [successor.userId] : []),
          );
          await commit(
            [
              w.group(groupId, -1, now, groupFails, extra),
              ...mine,
              w.role(groupId, successor.userId, successor.role, Role.owner, now, () => new Stale()),
            ],
            events,
            now,
          );
          return;
        }
        case 'dismiss': {
          // As POST /group/dismiss: the janitor's entry replaces a regular-clear one (roles.dismiss).
          const repair = keys.repairSchedule(groupId, now + CLEANUP_GRACE_MS);
          const extra: GroupExtra = {
            set: ['#status = :dismissed', 'deletedAt = :deletedAt', 'gsi2pk = :repairPk', 'gsi2sk = :repairSk'],
            condition: ['creatorId = :owner', 'memberCount = :last'],
            values: {
              ':dismissed': 'dismissed',
              ':deletedAt': plan.deletedAt,
              ':owner': me.userId,
              ':last': 1,
              ':repairPk': repair.gsi2pk,
              ':repairSk': repair.gsi2sk,
            },
          };
          await commit([w.group(groupId, -1, now, groupFails, extra), ...mine], events, now);
          return;
        }
      }
    },
  };
};
