import type { Context } from 'aws-lambda';
import { deps } from '#lib/app/janitor.ts';
import { runJanitor, type JanitorSummary } from '#lib/domain/janitor.ts';
import type { JanitorDeps } from '#lib/domain/ports.ts';
import { logger, type Logger } from '#lib/log.ts';
import { withInvocation } from '#lib/metrics.ts';

/**
 * The janitor (EventBridge Scheduler, every 10 minutes; the event carries nothing it reads): undoes
 * group creations a dead request left half-written and resumes dismissal cleanups that did not
 * finish, from the due entries of the repair schedule (lib/domain/janitor.ts). One log line per
 * repaired group (what was undone), one with the pass's summary. If any group (or shard) failed,
 * the invocation fails after the others were done, so the scheduler retries it and finally
 * dead-letters it (alarmed); every step is idempotent.
 */

/** No new group is started when less than this (at most half the invocation's time) is left. */
const RESERVE_MS = 60_000;

/** One pass with `d` (the handler's deps; tests inject their clock), logged on `log`. */
export const janitorPass = async (d: JanitorDeps, log: Logger, deadline?: number): Promise<JanitorSummary> => {
  const started = Date.now();
  const failures: string[] = [];
  const summary = await runJanitor(d, {
    ...(deadline === undefined ? {} : { deadline }),
    repaired: (repair) => {
      const { kind, ...fields } = repair;
      if (kind === 'undone') log.info('abandoned group creation undone', fields);
      else if (kind === 'resumed') log.info('dismissed group cleanup resumed', fields);
      else if (kind === 'stale') log.info('stale repair entry', fields);
      else log.debug('repair entry not due yet', fields);
    },
    failed: (groupId, error) => {
      failures.push(groupId ?? 'shard query');
      log.error(groupId === null ? 'janitor shard query failed' : 'janitor repair failed', { groupId, error });
    },
  });
  log.info('janitor pass done', { ...summary, ms: Date.now() - started });
  if (summary.failed > 0) throw new Error(`janitor: ${summary.failed} repair(s) failed (${failures.join(', ')}); the rest was done`);
  return summary;
};

export const handler = withInvocation('janitor', (_event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<JanitorSummary> => {
  const log = logger.child({ function: 'janitor' });
  const remaining = context?.getRemainingTimeInMillis();
  const deadline = remaining === undefined ? undefined : Date.now() + remaining - Math.min(RESERVE_MS, remaining / 2);
  return janitorPass(deps, log, deadline);
});
