import { domainEvent, type DomainEvent } from '../events/index.ts';

/**
 * Regular message clearing (set by POST /group/set_regular_clear; reference §8): an hourly pass
 * finds the due groups, claims each one and fans its members out in chunks to a queue; a worker
 * per chunk cleans each member's server history of the group before the cutoff (one RongCloud call
 * per member, within a rate), and the chunk that completes the run commits `GroupMessagesCleared`,
 * from which the notifier sends ST:MsgClear `clearGroupMsg` from the owner.
 *
 * When a group is due: at the first pass after clearing was switched on, then whenever its last
 * clear is older than its interval (24 h for 3 and 7 days, 12 h for 36 hours), so no message
 * outlives its retention by more than one interval plus the pass period (an hour).
 *
 * Exactly once per interval: a group is claimed with a conditional write of its schedule entry
 * (overlapping passes, a retried invocation, two schedules: one claim wins); each chunk is marked
 * done on the run, so a retried chunk never repeats and a redelivered one is skipped; the run
 * completes (and announces) once, guarded by the run's state and by being the group's current run.
 */

export type ClearingStatus = 3 | 7 | 36;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How old a message may get: the cutoff is `now −` this. */
export const CLEAR_RETENTION_MS: Readonly<Record<ClearingStatus, number>> = { 3: 3 * DAY, 7: 7 * DAY, 36: 36 * HOUR };
/** How often a group is cleared. */
export const CLEAR_INTERVAL_MS: Readonly<Record<ClearingStatus, number>> = { 3: DAY, 7: DAY, 36: 12 * HOUR };
/** Members per chunk (one queue message, one history call each). */
export const CLEAR_CHUNK_MEMBERS = 100;
/**
 * A claimed group whose pass died before its run was planned and queued is due again after this
 * (its next pass starts the run over; the unfinished run is superseded).
 */
export const CLEAR_CLAIM_LEASE_MS = 15 * 60_000;
/** How long a run's record is kept (for operators), seconds. */
export const CLEAR_RUN_RETENTION_S = 30 * 24 * 3600;

export const isClearing = (status: number): status is ClearingStatus => status === 3 || status === 7 || status === 36;

/** Messages before this are cleared (ms). */
export const cutoffOf = (status: ClearingStatus, now: number): number => now - CLEAR_RETENTION_MS[status];
/** When a group cleared at `now` is due again. */
export const nextClearOf = (status: ClearingStatus, now: number): number => now + CLEAR_INTERVAL_MS[status];

/** A due entry of the schedule, as the index shows it (eventually consistent: the claim re-checks). */
export interface DueClear {
  groupId: string;
  /** The schedule entry read; the claim succeeds only while it is still this. */
  entry: string;
  dueAt: number;
  clearStatus: number;
  /** The group's run before this one, if any (from the same read). */
  previousRunId?: string;
}

/** One chunk of a run: the members with `from <= userId < to` (no `to`: to the end). */
export interface ClearChunk {
  groupId: string;
  runId: string;
  chunk: number;
  from: string;
  to?: string;
  cutoff: number;
}

export type RunStatus = 'planning' | 'running' | 'done' | 'cancelled';

export interface ClearRun {
  groupId: string;
  runId: string;
  clearStatus: ClearingStatus;
  cutoff: number;
  startedAt: number;
  status: RunStatus;
  /** Set once planned. */
  chunks?: number;
  members?: number;
  done: readonly number[];
  calls: number;
  finishedAt?: number;
  reason?: string;
}

/** The group as a chunk worker checks it before working. */
export interface ClearingGroup {
  status: string;
  clearStatus: number;
  clearRunId?: string;
  creatorId: string;
}

export interface ClearingStore {
  /** Every due entry of every shard (`nextClearAt <= now`). */
  due(now: number): Promise<DueClear[]>;
  /**
   * Claims a due group for run `runId` in one transaction: the group's schedule entry moves to
   * `now + leaseMs` and `clearRunId` to the new run, recorded as `planning`, only while the entry,
   * the clear status and the previous run are still the ones read and the group is active. False
   * when another pass got there first or the group changed.
   */
  claim(due: DueClear & { clearStatus: ClearingStatus }, input: { runId: string; now: number; leaseMs: number; cutoff: number }): Promise<boolean>;
  /** Cancels a run still `planning` or `running` (superseded, or its group stopped clearing). */
  cancel(groupId: string, runId: string, reason: string, now: number): Promise<void>;
  /** Member ids, ascending (strongly consistent), `from <= id < to`. */
  memberIds(groupId: string, range?: { from: string; to?: string }): Promise<string[]>;
  /** Records the run's plan: how many chunks (and members at planning). */
  plan(groupId: string, runId: string, input: { chunks: number; members: number }): Promise<void>;
  /**
   * The run is queued: the group's schedule entry moves to `nextClearAt` (only while this is still
   * the group's run with that clear status), and the run becomes `running` if it is still `planning`.
   */
  started(groupId: string, runId: string, input: { nextClearAt: number; clearStatus: ClearingStatus }): Promise<void>;
  run(groupId: string, runId: string): Promise<ClearRun | null>;
  group(groupId: string): Promise<ClearingGroup | null>;
  /** Marks a chunk done with its calls; the run after the change, or null if the chunk was already done (or the run ended). */
  chunkDone(groupId: string, runId: string, chunk: number, calls: number): Promise<ClearRun | null>;
  /**
   * Finishes a run whose chunks are all done: `done`, the group's last clear recorded, and the
   * event, in one transaction, only while it is the group's current run and the group active.
   * False when it was already finished or no longer current.
   */
  finish(input: { run: ClearRun; now: number; event: DomainEvent }): Promise<boolean>;
}

/** Sends chunks to the queue the workers consume. */
export interface ChunkQueue {
  send(chunks: readonly ClearChunk[]): Promise<void>;
}

export interface HistoryCleaner {
  /** One member's server history of the group before `beforeMs`. */
  clean(groupId: string, userId: string, beforeMs: number): Promise<void>;
}

export interface PassSummary {
  due: number;
  /** Groups claimed and queued by this pass. */
  claimed: { groupId: string; runId: string; members: number; chunks: number; clearStatus: ClearingStatus; cutoff: number }[];
  /** Due groups another pass claimed first (or that changed since the index was read). */
  skipped: number;
  failed: { groupId: string; error: string }[];
}

export interface PassDeps {
  clearing: ClearingStore;
  queue: ChunkQueue;
  now: () => number;
  newRunId: (now: number) => string;
  log: { info(message: string, fields?: Record<string, unknown>): void; error(message: string, fields?: Record<string, unknown>): void };
  /** Groups handled at once. @default 4 */
  parallel?: number;
}

/** Chunk bounds: the first member id of each chunk (`from`), each chunk up to the next one's. */
export const chunkBounds = (memberIds: readonly string[], size = CLEAR_CHUNK_MEMBERS): string[] => {
  const bounds: string[] = [];
  for (let i = 0; i < memberIds.length; i += size) bounds.push(i === 0 ? '' : (memberIds[i] as string));
  return bounds;
};

/**
 * Runs `work` over `items`, at most `parallel` at once. After a failure no new item starts; the
 * ones in flight finish, then the first error is thrown.
 */
const runWith = async <T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(parallel, items.length) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
};

/**
 * One pass of the hourly schedule: every due group is claimed, planned (its members split into
 * chunks by user id), queued and marked running, its schedule moved to the next interval. A group
 * whose planning fails keeps its claim's lease and is due again after it; the pass reports it and
 * goes on with the others.
 */
export const runClearPass = async (deps: PassDeps): Promise<PassSummary> => {
  const now = deps.now();
  const due = await deps.clearing.due(now);
  const summary: PassSummary = { due: due.length, claimed: [], skipped: 0, failed: [] };
  await runWith(due, deps.parallel ?? 4, async (entry) => {
    if (!isClearing(entry.clearStatus)) {
      summary.skipped += 1;
      return;
    }
    const clearStatus = entry.clearStatus;
    const runId = deps.newRunId(now);
    const cutoff = cutoffOf(clearStatus, now);
    const claimed = await deps.clearing.claim({ ...entry, clearStatus }, { runId, now, leaseMs: CLEAR_CLAIM_LEASE_MS, cutoff }).catch((error: unknown) => {
      summary.failed.push({ groupId: entry.groupId, error: String(error) });
      deps.log.error('regular clear: claim failed', { groupId: entry.groupId, error });
      return undefined;
    });
    if (claimed === undefined) return;
    if (!claimed) {
      summary.skipped += 1;
      deps.log.info('regular clear: group claimed elsewhere or changed; skipped', { groupId: entry.groupId });
      return;
    }
    try {
      // A run an earlier pass claimed but never queued completely is superseded: its queued chunks
      // (if any) skip themselves, and this run covers every member.
      if (entry.previousRunId) await deps.clearing.cancel(entry.groupId, entry.previousRunId, `superseded by ${runId}`, now);
      const memberIds = await deps.clearing.memberIds(entry.groupId);
      const bounds = chunkBounds(memberIds);
      await deps.clearing.plan(entry.groupId, runId, { chunks: bounds.length, members: memberIds.length });
      await deps.queue.send(
        bounds.map((from, chunk) => ({
          groupId: entry.groupId,
          runId,
          chunk,
          from,
          ...(chunk + 1 < bounds.length ? { to: bounds[chunk + 1] } : {}),
          cutoff,
        })),
      );
      await deps.clearing.started(entry.groupId, runId, { nextClearAt: nextClearOf(clearStatus, now), clearStatus });
      summary.claimed.push({ groupId: entry.groupId, runId, members: memberIds.length, chunks: bounds.length, clearStatus, cutoff });
      deps.log.info('regular clear: group queued', { groupId: entry.groupId, runId, clearStatus, cutoff, members: memberIds.length, chunks: bounds.length });
    } catch (error) {
      summary.failed.push({ groupId: entry.groupId, error: String(error) });
      deps.log.error('regular clear: planning failed; the group is due again after the claim lease', {
        groupId: entry.groupId,
        runId,
        leaseMs: CLEAR_CLAIM_LEASE_MS,
        error,
      });
    }
  });
  return summary;
};

export interface ChunkDeps {
  clearing: ClearingStore;
  history: HistoryCleaner;
  now: () => number;
  log: { info(message: string, fields?: Record<string, unknown>): void; warn(message: string, fields?: Record<string, unknown>): void };
  /** History calls in flight at once (the rate bucket paces them). @default 10 */
  parallel?: number;
}

export type ChunkOutcome =
  | { kind: 'cleared'; calls: number; finished: boolean }
  | { kind: 'skipped'; reason: string; finished: boolean };

/**
 * Finishes `run` if every chunk is done: the announcement goes out once (see `ClearingStore.finish`).
 */
const finishIfComplete = async (deps: ChunkDeps, run: ClearRun, group: ClearingGroup): Promise<boolean> => {
  if (run.chunks === undefined || run.done.length < run.chunks || run.status === 'done' || run.status === 'cancelled') return false;
  const now = deps.now();
  const event = domainEvent('GroupMessagesCleared', {
    groupId: run.groupId,
    operatorId: group.creatorId,
    clearStatus: run.clearStatus,
    clearTime: run.cutoff,
    runId: run.runId,
    members: run.calls,
    timestamp: now,
  });
  const finished = await deps.clearing.finish({ run, now, event });
  if (finished) deps.log.info('regular clear: run finished', { groupId: run.groupId, runId: run.runId, calls: run.calls, chunks: run.chunks });
  return finished;
};

/**
 * One queued chunk: skipped when its run ended, was superseded or the group stopped clearing (the
 * run is then cancelled, so no other chunk works either); otherwise each current member in the
 * chunk's range gets one history call, the chunk is marked done, and the last chunk finishes the run.
 * A failed call fails the chunk (the queue retries it, then dead-letters it); chunks already done
 * are never repeated.
 */
export const clearChunk = async (deps: ChunkDeps, chunk: ClearChunk): Promise<ChunkOutcome> => {
  const [run, group] = await Promise.all([deps.clearing.run(chunk.groupId, chunk.runId), deps.clearing.group(chunk.groupId)]);
  if (!run) return { kind: 'skipped', reason: 'no such run', finished: false };
  if (run.status === 'done' || run.status === 'cancelled') return { kind: 'skipped', reason: `run ${run.status}`, finished: false };
  const stop =
    !group || group.status !== 'active'
      ? 'group is no longer active'
      : !isClearing(group.clearStatus)
        ? 'clearing was switched off'
        : group.clearRunId !== run.runId
          ? `superseded by run ${group.clearRunId ?? '(none)'}`
          : undefined;
  if (stop !== undefined || !group) {
    const reason = stop ?? 'group is gone';
    await deps.clearing.cancel(chunk.groupId, chunk.runId, reason, deps.now());
    deps.log.info('regular clear: run cancelled', { groupId: chunk.groupId, runId: chunk.runId, reason });
    return { kind: 'skipped', reason, finished: false };
  }
  if (run.done.includes(chunk.chunk)) {
    // A redelivery after the chunk was marked: it only finishes the run if that did not happen.
    return { kind: 'skipped', reason: 'chunk already done', finished: await finishIfComplete(deps, run, group) };
  }

  const memberIds = await deps.clearing.memberIds(chunk.groupId, { from: chunk.from, ...(chunk.to === undefined ? {} : { to: chunk.to }) });
  await runWith(memberIds, deps.parallel ?? 10, (userId) => deps.history.clean(chunk.groupId, userId, chunk.cutoff));
  const after = await deps.clearing.chunkDone(chunk.groupId, chunk.runId, chunk.chunk, memberIds.length);
  if (!after) return { kind: 'skipped', reason: 'chunk done concurrently', finished: false };
  return { kind: 'cleared', calls: memberIds.length, finished: await finishIfComplete(deps, after, group) };
};
