import { describe, expect, it } from 'vitest';
import { deps, store } from '#lib/app.ts';
import { deps as controls } from '#lib/app/controls.ts';
import { deps as departures } from '#lib/app/departures.ts';
import { deps as groups } from '#lib/app/groups.ts';
import { deps as invitations } from '#lib/app/invitations.ts';
import { deps as janitor } from '#lib/app/janitor.ts';
import { deps as roles } from '#lib/app/roles.ts';
import { deps as settings } from '#lib/app/settings.ts';
import { client } from '#lib/app/store/client.ts';
import { groupReads } from '#lib/app/store/group-reads.ts';

/**
 * The roots a Lambda imports (lib/app/<module>.ts) and the whole composition (lib/app.ts) share one
 * instance of every repository, over one DynamoDB client: middleware added to `store.client` sees
 * every handler's calls, and a repository's per-container state (the user store's projected claims)
 * is one.
 */
describe('the composition roots', () => {
  it('use the one DynamoDB client of lib/app.ts', () => {
    expect(store.client).toBe(client);
  });

  it('share the repositories of lib/app.ts', () => {
    const roots = { controls, departures, groups, invitations, janitor, roles, settings } as const;
    for (const [name, root] of Object.entries(roots)) {
      for (const [key, value] of Object.entries(root)) {
        if (key === 'groups' && value === groupReads) continue;
        if (key === 'now') expect(value, `${name}.now`).toBe(Date.now);
        else expect(value, `${name}.${key}`).toBe(deps[key as keyof typeof deps]);
      }
    }
  });

  it('give the functions that only read groups the one group reader', () => {
    for (const root of [controls, departures, invitations, settings]) expect(root.groups).toBe(groupReads);
    expect(Object.keys(groupReads).sort()).toEqual(['get', 'getMany']);
  });
});
