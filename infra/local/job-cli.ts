import { schedules } from '#lib/routes.ts';
import type { RegularClearReport } from './jobs.ts';
import { localLocation, readRuntime } from './runtime-file.ts';

/**
 * `npm run regular-clear` / `npm run janitor` (`node --import tsx infra/local/job-cli.ts <job>`):
 * runs one scheduled job now inside the `npm start` running on `PORT` (default 3000), against its
 * data, its bus and its RongCloud settings, and prints what it did. Exit code 0 when the run
 * succeeded, 1 when it failed or no local runtime runs, 2 on usage errors.
 */

const [name, ...rest] = process.argv.slice(2);
const names = schedules.map((s) => s.name);
if (!name || rest.length > 0 || !names.includes(name)) {
  console.error(`usage: node --import tsx infra/local/job-cli.ts <${names.join('|')}> (npm run ${names.join(' / npm run ')})`);
  process.exit(2);
}

let port: number;
try {
  port = localLocation(process.env).port;
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

const runtime = readRuntime(port);
if (!runtime?.schedulerEndpoint) {
  console.error(`no local runtime with a scheduler is running on port ${port}: start it with npm start (or set PORT)`);
  process.exit(1);
}

const days = (status: number): string => (status === 36 ? '36 hours' : `${status} days`);

const printRegularClear = (report: RegularClearReport, ms: number): void => {
  console.log(
    `regular clear: ${report.due} due, ${report.cleared.length} cleared, ${report.skipped} skipped, ${report.failed.length} failed; ` +
      `${report.calls} history calls in ${(ms / 1000).toFixed(1)} s`,
  );
  for (const group of report.cleared) {
    const outcome = group.status === 'done' ? 'ST:MsgClear sent' : `${group.status}${group.reason ? ` (${group.reason})` : ''}`;
    console.log(
      `  ${group.groupId}: older than ${days(group.clearStatus)} (before ${new Date(group.cutoff).toISOString()}), ` +
        `${group.members} members, ${group.calls} calls, ${outcome}`,
    );
  }
  for (const failure of report.failed) console.log(`  ${failure.groupId}: FAILED ${failure.error}`);
};

const response = await fetch(`${runtime.schedulerEndpoint}/jobs/${encodeURIComponent(name)}/run`, { method: 'POST' }).catch((error: unknown) => {
  console.error(`could not reach the local scheduler at ${runtime.schedulerEndpoint}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
const body = (await response.json()) as { ms: number; result?: unknown; error?: string };
if (!response.ok) {
  console.error(`${name} failed after ${body.ms} ms: ${body.error ?? response.statusText}`);
  process.exit(1);
}
if (name === 'regular-clear') printRegularClear(body.result as RegularClearReport, body.ms);
else console.log(`${name} done in ${body.ms} ms: ${JSON.stringify(body.result)}`);
