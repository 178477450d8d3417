import { randomBytes } from 'node:crypto';
import { startPipelineStack } from './stack.ts';
import { recordResults } from './results.ts';

/**
 * A regular-clear pass of a 3000-member group on the local runtime's pipeline (the chunk queue on
 * the local bus, the worker, the relay and the notifier), against the fake RongCloud: the pass
 * (claim + plan + queue), the chunks (3000 history calls within REGULAR_CLEAR_RATE), the rate
 * measured at the fake (busiest aligned second, overall), and ST:MsgClear after the last call.
 */

const MEMBERS = Number(process.env.BENCH_CLEAR_MEMBERS ?? 3000);
const RATE = Number(process.env.REGULAR_CLEAR_RATE ?? 100);

const stack = await startPipelineStack('clear', { MAX_GROUP_MEMBERS: '3000', REGULAR_CLEAR_RATE: String(RATE) });
const { fake, events } = stack;
try {
  const { callRoute } = await import('#tests/helpers/lambda.ts');
  const { handler: pass } = await import('#functions/regular-clear.ts');
  const owner = `bench-owner-${randomBytes(3).toString('hex')}`;
  const members = Array.from({ length: MEMBERS - 1 }, (_, i) => `${owner}-m${i}`);
  const created = await callRoute<{ code: number; result: { id: string } }>('POST', '/group/create', { as: owner, body: { name: 'Bench', memberIds: members } });
  const groupId = created.body.result.id;
  await callRoute('POST', '/group/set_regular_clear', { as: owner, body: { groupId, clearStatus: 3 } });
  await events.settled(60_000);
  fake.reset();

  const started = Date.now();
  const summary = await pass();
  const passMs = Date.now() - started;
  await events.bus.idle(600_000);
  await events.settled(60_000);
  const calls = fake.calls.filter((c) => c.path === '/conversation/message/history/clean.json');
  const msgClear = fake.calls.find((c) => c.form.get('objectName') === 'ST:MsgClear');
  if (!msgClear || calls.length !== MEMBERS) throw new Error(`expected ${MEMBERS} calls and ST:MsgClear, got ${calls.length} calls, ${msgClear ? '' : 'no '}ST:MsgClear`);
  const perSecond = new Map<number, number>();
  for (const call of calls) perSecond.set(Math.floor(call.at / 1000), (perSecond.get(Math.floor(call.at / 1000)) ?? 0) + 1);
  const first = calls[0]!.at;
  const last = calls.at(-1)!.at;
  const seconds = Math.floor(last / 1000) - Math.floor(first / 1000) + 1;
  console.log(`\nregular clear of a ${MEMBERS}-member group on the local pipeline (REGULAR_CLEAR_RATE=${RATE})`);
  console.log(`  pass (claim, plan, queue ${summary.claimed[0]?.chunks} chunks)   ${passMs} ms`);
  console.log(`  first call after the pass started         ${first - started} ms`);
  console.log(`  ${calls.length} history calls                      ${((last - first) / 1000).toFixed(1)} s (first to last)`);
  console.log(`  rate at the fake                          busiest second ${Math.max(...perSecond.values())} calls, ${(calls.length / seconds).toFixed(1)} calls/s over ${seconds} seconds`);
  console.log(`  ST:MsgClear after the last call           ${msgClear.at - last} ms`);
  console.log(`  whole run (pass start → ST:MsgClear)      ${((msgClear.at - started) / 1000).toFixed(1)} s`);
  await recordResults('regularClear', {
    runtime: 'the local pipeline (chunk queue on the local bus, worker, relay, notifier), fake RongCloud',
    members: MEMBERS,
    rateLimit: RATE,
    passMs,
    chunks: summary.claimed[0]?.chunks,
    historyCalls: calls.length,
    callsSeconds: (last - first) / 1000,
    busiestSecondCalls: Math.max(...perSecond.values()),
    callsPerSecond: calls.length / seconds,
    msgClearAfterLastCallMs: msgClear.at - last,
    wholeRunSeconds: (msgClear.at - started) / 1000,
  });
} finally {
  await stack.stop();
}
