import { newGroupId } from './domain/ids.ts';
import type { Deps } from './domain/ports.ts';
import type { Store } from './store/index.ts';
import { limits } from './app/limits.ts';
import { clearing } from './app/store/clearing.ts';
import { client, commit } from './app/store/client.ts';
import { controls } from './app/store/controls.ts';
import { deliveries } from './app/store/deliveries.ts';
import { departures } from './app/store/departures.ts';
import { groups } from './app/store/groups.ts';
import { imMirror } from './app/store/im-mirror.ts';
import { invitations } from './app/store/invitations.ts';
import { janitor } from './app/store/janitor.ts';
import { members } from './app/store/members.ts';
import { roles } from './app/store/roles.ts';
import { settings } from './app/store/settings.ts';
import { users } from './app/store/users.ts';

/**
 * The whole composition, for tests, benchmarks and the local runtime's jobs: every repository and
 * the full `Deps`. A Lambda never imports it: each handler imports the root of its domain module
 * (`lib/app/<module>.ts`: groups, invitations, departures, roles, settings, controls, janitor) and
 * `endpoint` from `lib/app/http.ts`, so its bundle holds only the repositories it uses. Every
 * repository here is the same instance those roots use (`lib/app/store/`), over the process's one
 * DynamoDB client: middleware added to `store.client` sees every handler's calls.
 */

export const store: Store = {
  client,
  commit,
  groups,
  members,
  users,
  deliveries,
  imMirror,
  invitations,
  departures,
  roles,
  settings,
  controls,
  janitor,
  clearing,
};

export const deps: Deps = {
  groups,
  members,
  users,
  invitations,
  departures,
  roles,
  settings,
  controls,
  janitor,
  limits,
  now: Date.now,
  newGroupId,
};

export { endpoint } from './app/http.ts';
