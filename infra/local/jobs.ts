import type { PassSummary } from '#lib/domain/clearing.ts';
import { schedules } from '#lib/routes.ts';
import type { LocalEvents } from './events.ts';
import type { LocalJob } from './scheduler.ts';

/**
 * The scheduled jobs of `npm start`: the functions the stack's EventBridge Scheduler schedules
 * invoke (lib/routes.ts `schedules`), with the same periods. A regular-clear run also waits for
 * what it queued (its chunks on the local bus, then ST:MsgClear through the notifier) and reports
 * per group what was done, so `npm run regular-clear` can print it.
 */

/** How long a run on request waits for its chunks: 3000 members at 100 calls/s take 30 s. */
const SETTLE_MS = 10 * 60_000;

export interface ClearedGroup {
  groupId: string;
  clearStatus: number;
  cutoff: number;
  members: number;
  /** History calls made (a retried chunk's calls count again). */
  calls: number;
  /** `done` once ST:MsgClear is committed; `cancelled` (with a reason) when the group stopped clearing. */
  status: string;
  reason?: string;
}

export interface RegularClearReport {
  due: number;
  cleared: ClearedGroup[];
  skipped: number;
  failed: PassSummary['failed'];
  calls: number;
}

type Handler = (event?: unknown) => Promise<unknown>;

const handlerOf = async (name: string): Promise<Handler> => {
  const module = (await import(`#functions/${name}.ts`)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new Error(`functions/${name}.ts does not export a handler`);
  return module.handler as Handler;
};

export const localJobs = (events: LocalEvents): LocalJob[] =>
  schedules.map((job): LocalJob => {
    const invoke = async (): Promise<unknown> => (await handlerOf(job.handler))({ job: job.name });
    if (job.name !== 'regular-clear') return { name: job.name, everyMs: job.everyMs, run: invoke };
    return {
      name: job.name,
      everyMs: job.everyMs,
      run: async (): Promise<RegularClearReport> => {
        const summary = (await invoke()) as PassSummary;
        // The chunks, then the relay and the notifier (ST:MsgClear), then anything that caused.
        await events.bus.idle(SETTLE_MS);
        await events.settled(SETTLE_MS);
        const { store } = await import('#lib/app.ts');
        const cleared = await Promise.all(
          summary.claimed.map(async (claim): Promise<ClearedGroup> => {
            const run = await store.clearing.run(claim.groupId, claim.runId);
            return {
              groupId: claim.groupId,
              clearStatus: claim.clearStatus,
              cutoff: claim.cutoff,
              members: claim.members,
              calls: run?.calls ?? 0,
              status: run?.status ?? 'missing',
              ...(run?.reason === undefined ? {} : { reason: run.reason }),
            };
          }),
        );
        return { due: summary.due, cleared, skipped: summary.skipped, failed: summary.failed, calls: cleared.reduce((n, g) => n + g.calls, 0) };
      },
    };
  });
