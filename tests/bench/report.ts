import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RESULTS_FILE, type ScaleRow } from './results.ts';

/**
 * Renders bench-results.json into the README's benchmark tables, between the markers
 * `<!-- bench:<section> -->` and `<!-- /bench:<section> -->`. `npm run bench` ends with it, so the
 * README shows the figures of the last full run; `npm run bench:report` re-renders without
 * measuring.
 */

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

interface EndpointRow {
  route: string;
  label?: string;
  p50Ms: number;
  p95Ms: number;
  handlerOverheadP50Ms: number;
  roundTrips: number;
  readUnits: number;
  writeUnits: number;
  capacityRatio: number;
  floor: { reads: number; writes: number; maxRoundTrips: number };
  targets: Record<string, boolean>;
}
interface BundleRow {
  name: string;
  bytes: number;
  gzipBytes: number;
  sizeRatio: number;
  coldImportMs: number;
  coldImportRatio: number;
}

const results = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, { measuredAt: string; machine: { node: string; cpus: number } } & Record<string, unknown>>;

const stamp = (section: string) => {
  const s = results[section];
  return s ? `_Measured ${s.measuredAt.slice(0, 10)}, node ${s.machine.node}, ${s.machine.cpus} cores._` : '';
};

const renderers: Record<string, () => string | undefined> = {
  endpoints: () => {
    const rows = results.endpoints?.rows as EndpointRow[] | undefined;
    if (!rows) return undefined;
    return [
      stamp('endpoints'),
      '',
      '| Endpoint | p50 ms | p95 ms | Overhead p50 ms | Round trips (target) | Capacity R + W | Minimum R + W | × minimum |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => {
        const miss = Object.values(r.targets).every(Boolean) ? '' : ' **miss**';
        return `| \`${r.route}\`${r.label ? ` (${r.label})` : ''}${miss} | ${r.p50Ms} | ${r.p95Ms} | ${r.handlerOverheadP50Ms} | ${r.roundTrips} (≤ ${r.floor.maxRoundTrips}) | ${r.readUnits} + ${r.writeUnits} | ${r.floor.reads} + ${r.floor.writes} | ${r.capacityRatio} |`;
      }),
    ].join('\n');
  },
  scale: () => {
    const rows = results.scale?.rows as ScaleRow[] | undefined;
    if (!rows) return undefined;
    return [
      stamp('scale'),
      '',
      '| Operation | Request ms | Consistent after ms | Round trips | Transactions | Capacity R + W | Afterwards |',
      '|---|---:|---:|---:|---:|---:|---|',
      ...rows.map(
        (r) => `| ${r.operation} | ${r.requestMs.toFixed(0)} | ${r.consistentMs.toFixed(0)} | ${r.roundTrips} | ${r.transactions} | ${r.readUnits} + ${r.writeUnits} | ${r.check} |`,
      ),
    ].join('\n');
  },
  pipeline: () => {
    const clear = results.regularClear as Record<string, number> | undefined;
    const events = results.eventsLatency as ({ creates: number; ratePerSecond: number } & Record<string, { p50Ms: number; p95Ms: number; maxMs: number }>) | undefined;
    const janitor = results.janitor as { create3000Ms: number; undone: { seated: number; invited: number; undoMs: number; transactions: number; countsExact: boolean; itemsLeft: number }[] } | undefined;
    if (!clear || !events || !janitor) return undefined;
    const latency = (x: { p50Ms: number; p95Ms: number; maxMs: number }) => `p50 ${x.p50Ms} ms, p95 ${x.p95Ms} ms, max ${x.maxMs} ms`;
    return [
      '| What | Figure |',
      '|---|---|',
      `| Regular clear of a ${clear.members}-member group: the pass (claim, plan, queue ${clear.chunks} chunks) | ${clear.passMs} ms |`,
      `| ... its ${clear.historyCalls} history calls at REGULAR_CLEAR_RATE=${clear.rateLimit} | ${clear.callsSeconds?.toFixed(1)} s; busiest second ${clear.busiestSecondCalls} calls, ${clear.callsPerSecond?.toFixed(1)} calls/s |`,
      `| ... pass start → ST:MsgClear | ${clear.wholeRunSeconds?.toFixed(1)} s |`,
      `| Commit → \`/group/create.json\` at RongCloud (${events.creates} creates at ${events.ratePerSecond}/s) | ${latency(events.commitToGroupCreate as { p50Ms: number; p95Ms: number; maxMs: number })} |`,
      `| Commit → ST:GrpNtf Create | ${latency(events.commitToGroupNotice as { p50Ms: number; p95Ms: number; maxMs: number })} |`,
      `| A 3000-member create (in-process) | ${janitor.create3000Ms} ms |`,
      ...janitor.undone.map(
        (u) => `| Janitor undoing a half-written creation (${u.seated} seated, ${u.invited} invited) | ${u.undoMs} ms, ${u.transactions} transactions; counts exact: ${u.countsExact}; items left: ${u.itemsLeft} |`,
      ),
    ].join('\n');
  },
  load: () => {
    const load = results.load as
      | ({
          clients: number;
          requests: number;
          seconds: number;
          requestsPerSecond: number;
          p50Ms: number;
          p95Ms: number;
          p99Ms: number;
          statuses: Record<string, number>;
          kinds: { kind: string; requests: number; p50Ms: number; p95Ms: number }[];
          eventsCommitted: number;
          settleSeconds: number;
          clean: boolean;
        } & Record<string, unknown>)
      | undefined;
    if (!load?.kinds) return undefined;
    const fiveHundreds = Object.entries(load.statuses).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
    return [
      stamp('load'),
      '',
      `${load.clients} clients, ${load.requests} requests in ${load.seconds} s = **${load.requestsPerSecond} requests/s**; all requests p50 ${load.p50Ms} ms, **p95 ${load.p95Ms} ms**, p99 ${load.p99Ms} ms. ` +
        `Statuses: ${Object.entries(load.statuses).map(([s, n]) => `${s}×${n}`).join(', ')} (5xx: ${fiveHundreds}). ` +
        `${load.eventsCommitted} events committed; the pipeline settled ${load.settleSeconds} s after the last request (the notifier keeps to RongCloud's rate limits, e.g. 20 group messages/s). ` +
        `Checks: ${load.clean ? 'clean (every count exact, every event at RongCloud exactly once)' : '**failed**'}.`,
      '',
      '| Request | Count | p50 ms | p95 ms |',
      '|---|---:|---:|---:|',
      ...load.kinds.map((k) => `| ${k.kind} | ${k.requests} | ${k.p50Ms} | ${k.p95Ms} |`),
    ].join('\n');
  },
  bundles: () => {
    const section = results.bundles as ({ baseline?: { bytes: number; coldImportMs: number }; functions?: BundleRow[] } & Record<string, unknown>) | undefined;
    if (!section?.functions || !section.baseline) return undefined;
    return [
      stamp('bundles'),
      '',
      `Baseline (a handler importing only the DynamoDB document client, same esbuild options): ${(section.baseline.bytes / 1024).toFixed(0)} KiB, cold import ${section.baseline.coldImportMs.toFixed(0)} ms.`,
      '',
      '| Function | KiB | gzip KiB | × baseline size | Cold import ms | × baseline import |',
      '|---|---:|---:|---:|---:|---:|',
      ...section.functions.map(
        (f) => `| ${f.name} | ${(f.bytes / 1024).toFixed(0)} | ${(f.gzipBytes / 1024).toFixed(0)} | ${f.sizeRatio.toFixed(2)} | ${f.coldImportMs.toFixed(0)} | ${f.coldImportRatio.toFixed(2)} |`,
      ),
    ].join('\n');
  },
};

let readme = readFileSync(README, 'utf8');
for (const [section, render] of Object.entries(renderers)) {
  const open = `<!-- bench:${section} -->`;
  const close = `<!-- /bench:${section} -->`;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start === -1 || end === -1) continue;
  const table = render();
  if (table === undefined) {
    console.warn(`bench-results.json has no ${section} figures; README section left as it was`);
    continue;
  }
  readme = `${readme.slice(0, start + open.length)}\n${table}\n${readme.slice(end)}`;
}
writeFileSync(README, readme);
console.log('README benchmark tables rendered from bench-results.json');
