import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { consumers, httpFunctions, OUTBOX_RELAY_HANDLER, routeKey, routes, schedules, workQueues } from '#lib/routes.ts';

const functionFiles = readdirSync(new URL('../../functions/', import.meta.url))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''));

describe('the route table', () => {
  it('names every file in functions/ exactly once', () => {
    for (const file of functionFiles) {
      const uses =
        (file === OUTBOX_RELAY_HANDLER ? 1 : 0) +
        routes.filter((r) => r.handler === file).length +
        consumers.filter((c) => c.handler === file).length +
        workQueues.filter((q) => q.handler === file).length +
        schedules.filter((j) => j.handler === file).length;
      expect(uses, file).toBe(1);
    }
  });

  it('has a function file for every event consumer, queue worker, scheduled job and for the outbox relay', () => {
    for (const c of consumers) expect(functionFiles).toContain(c.handler);
    for (const q of workQueues) expect(functionFiles).toContain(q.handler);
    for (const j of schedules) expect(functionFiles).toContain(j.handler);
    expect(functionFiles).toContain(OUTBOX_RELAY_HANDLER);
  });

  it('has a function file for every route', () => {
    for (const fn of httpFunctions()) expect(functionFiles).toContain(fn);
  });

  it('lists each method and path once', () => {
    const keys = routes.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set(routes.map((r) => r.handler)).size).toBe(routes.length);
  });

  it('covers the SealTalk group API plus the two user listings', () => {
    expect(routes).toHaveLength(32);
    expect(routes.map(routeKey)).toEqual(
      expect.arrayContaining(['POST /group/create', 'GET /group/{id}', 'GET /group/{id}/members', 'DELETE /group/fav', 'GET /user/groups', 'GET /user/favgroups']),
    );
  });

});
