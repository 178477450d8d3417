/**
 * The janitor: a scheduled pass (every 10 minutes) that repairs what an interrupted request can
 * leave behind. It never scans: the writes that may be left unfinished put a repair entry on the
 * group item (sparse GSI2, `REPAIR#<shard>`), due when the work should long be over, and remove it
 * once it is:
 *
 * - a chunked creation (or copy) writes the group as `creating` with an entry due
 *   `CREATION_STALE_MS` after its `createdAt`; the transaction that makes it `active` removes the
 *   entry. A group still `creating` when its entry is due was left by a request that died: the
 *   janitor marks it `abandoned` (conditionally, so the request's final activation can never
 *   succeed afterwards; no chunk can land later either: the Lambda times out long before), then undoes
 *   it: every member item deleted with −1 on its owner's group count (each exactly once, whatever
 *   runs at the same time), the creation's notices and their inbox pointers deleted, and finally
 *   the group item (which takes the entry with it). A janitor that dies mid-undo leaves the group
 *   `abandoned` with its entry: the next pass finishes the undo.
 * - a dismissal sets an entry due `CLEANUP_GRACE_MS` later (replacing a regular-clear entry); the
 *   cleanup (`cleanupDismissedGroup`) removes it as its very last step. A dismissed group whose
 *   entry is due was not cleaned up (the consumer failed for good, or never ran): the janitor runs
 *   the cleanup itself.
 * - an entry on an active group (or of a group that is gone) is stale: removed, and logged.
 *
 * Every step is idempotent and conditional, so two passes at once (a retried invocation overlapping
 * the next one) and a cleanup consumer running at the same time never count anything twice.
 */

import { cleanupDismissedGroup } from './roles.ts';
import type { Group } from './model.ts';
import type { JanitorDeps } from './ports.ts';

/** A group still `creating` this long after its `createdAt` was left by a request that died. */
export const CREATION_STALE_MS = 5 * 60_000;
/** A dismissed group not cleaned up this long after its dismissal is cleaned up by the janitor. */
export const CLEANUP_GRACE_MS = 10 * 60_000;
/** Groups repaired at once (each runs a few transactions in parallel itself). */
const GROUPS_AT_ONCE = 3;
/** Re-reads of one group whose state moved under the janitor (creating → active or abandoned → gone). */
const MAX_READS = 4;

/** A due entry of the repair schedule, as the index shows it (eventually consistent: re-read). */
export interface RepairEntry {
  groupId: string;
  dueAt: number;
}

/** The group item read strongly consistently, with its repair entry's due time if it has one. */
export interface RepairTarget {
  group: Group;
  /** Due time of the group's `REPAIR#` entry, or null when it has none (any more). */
  repairDueAt: number | null;
}

/** What the janitor needs from storage (implemented in lib/store/janitor.ts). */
export interface JanitorStore {
  /**
   * The repair entries due at or before `now`, from every shard (queried in parallel, paginated).
   * A shard whose query failed is reported in `errors`; the entries of the others are returned.
   */
  due(now: number): Promise<{ entries: RepairEntry[]; errors: unknown[] }>;
  /** The group item and its repair entry (strongly consistent), or null when there is no group. */
  read(groupId: string): Promise<RepairTarget | null>;
  /** `creating` → `abandoned`, only while it is `creating`. Returns whether this call abandoned it. */
  abandon(groupId: string, now: number): Promise<boolean>;
  /**
   * Deletes the notices of an abandoned creation with their viewers' inbox pointers (each notice
   * with its pointers in one transaction; idempotent). Returns how many notices and pointers it
   * found and deleted (a concurrent run may count the same ones: nothing is counted by them).
   */
  removeNotices(groupId: string): Promise<{ notices: number; inboxes: number }>;
  /** Deletes the group item (and so its entry) only while it is `abandoned`. Returns whether this call deleted it. */
  removeAbandoned(groupId: string): Promise<boolean>;
  /** Removes the group's repair entry only while it is still the one due at `dueAt`. Returns whether it did. */
  dropEntry(groupId: string, dueAt: number): Promise<boolean>;
}

/** One repaired group, as logged. */
export type Repair =
  | { groupId: string; kind: 'undone'; from: 'creating' | 'abandoned'; released: number; notices: number; inboxes: number; groupRemoved: boolean }
  | { groupId: string; kind: 'resumed'; released: number; expired: number }
  | { groupId: string; kind: 'stale'; status: Group['status'] | 'missing'; removed: boolean }
  | { groupId: string; kind: 'notDue'; status: Group['status'] };

export interface JanitorSummary {
  /** Due entries looked at. */
  checked: number;
  /** Abandoned creations undone (or their undo resumed). */
  undone: number;
  /** Dismissal cleanups resumed. */
  resumed: number;
  /** Entries of active or missing groups (removed where still there). */
  stale: number;
  /** Groups whose repair failed (and shards whose query failed); retried at the next pass. */
  failed: number;
  /** Entries left for the next pass (the deadline came first). */
  deferred: number;
}

export interface JanitorHooks {
  /** Called once per group repaired (or found stale), as soon as it is. */
  repaired?: (repair: Repair) => void;
  /** Called once per group whose repair failed (`groupId` null: a shard's query). */
  failed?: (groupId: string | null, error: unknown) => void;
  /** Epoch ms (real time) after which no further group is started. */
  deadline?: number;
}

/**
 * Undoes an abandoned creation: its members released (item deleted with the group-count decrement,
 * each once: the deletes are conditional and a member already gone is dropped, not counted), its
 * notices and pointers deleted, then the group item (only while still `abandoned`).
 */
const undoCreation = async (deps: JanitorDeps, groupId: string, from: 'creating' | 'abandoned'): Promise<Repair> => {
  // Both to the end, even when one fails: nothing of this pass goes on after it reported.
  const [members, notices] = await Promise.allSettled([deps.roles.releaseMembers(groupId), deps.janitor.removeNotices(groupId)]);
  if (members.status === 'rejected') throw members.reason;
  if (notices.status === 'rejected') throw notices.reason;
  const [released, removed] = [members.value, notices.value];
  // Last: the group item carries the entry, so an interrupted undo is found again by the next pass.
  const groupRemoved = await deps.janitor.removeAbandoned(groupId);
  return { groupId, kind: 'undone', from, released, ...removed, groupRemoved };
};

/** Repairs one group whose entry was seen due; re-reads while its state moves under the janitor. */
const repairGroup = async (deps: JanitorDeps, entry: RepairEntry, now: number): Promise<Repair> => {
  const { groupId } = entry;
  for (let read = 1; ; read++) {
    const target = await deps.janitor.read(groupId);
    if (!target) return { groupId, kind: 'stale', status: 'missing', removed: false };
    const { group, repairDueAt } = target;
    // The index lags the table: the entry may be gone by now (the work was finished meanwhile).
    if (repairDueAt === null) return { groupId, kind: 'stale', status: group.status, removed: false };
    // A newer entry than the one seen (not possible today; an entry is never moved later), or a clock skew.
    if (repairDueAt > now) return { groupId, kind: 'notDue', status: group.status };
    switch (group.status) {
      case 'creating': {
        // Conditional: of a janitor and the request's final activation, exactly one wins.
        if (await deps.janitor.abandon(groupId, now)) return undoCreation(deps, groupId, 'creating');
        break; // activated, abandoned by another janitor, or undone meanwhile: read again
      }
      case 'abandoned':
        return undoCreation(deps, groupId, 'abandoned');
      case 'dismissed': {
        const done = await cleanupDismissedGroup(deps, { groupId, operatorId: group.creatorId });
        if (done) return { groupId, kind: 'resumed', ...done };
        break; // not dismissed any more: cannot happen, read again
      }
      case 'active':
        return { groupId, kind: 'stale', status: 'active', removed: await deps.janitor.dropEntry(groupId, repairDueAt) };
    }
    if (read >= MAX_READS) throw new Error(`group ${groupId} kept changing under the janitor (${group.status})`);
  }
};

/** Runs `work` over `items`, at most `parallel` at once. */
const inParallel = async <T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
};

/**
 * One janitor pass: every due entry of every shard, a few groups at a time. A failure of one group
 * does not stop the others; the summary counts it in `failed` (the caller fails the invocation, so
 * the scheduler retries it).
 */
export const runJanitor = async (deps: JanitorDeps, hooks: JanitorHooks = {}): Promise<JanitorSummary> => {
  const now = deps.now();
  const summary: JanitorSummary = { checked: 0, undone: 0, resumed: 0, stale: 0, failed: 0, deferred: 0 };
  const { entries, errors } = await deps.janitor.due(now);
  for (const error of errors) {
    summary.failed++;
    hooks.failed?.(null, error);
  }
  const unique = [...new Map(entries.map((e): [string, RepairEntry] => [e.groupId, e])).values()];
  await inParallel(unique, GROUPS_AT_ONCE, async (entry) => {
    if (hooks.deadline !== undefined && Date.now() >= hooks.deadline) {
      summary.deferred++;
      return;
    }
    summary.checked++;
    try {
      const repair = await repairGroup(deps, entry, now);
      if (repair.kind === 'undone') summary.undone++;
      else if (repair.kind === 'resumed') summary.resumed++;
      else if (repair.kind === 'stale') summary.stale++;
      hooks.repaired?.(repair);
    } catch (error) {
      summary.failed++;
      hooks.failed?.(entry.groupId, error);
    }
  });
  return summary;
};
