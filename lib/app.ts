import { config } from './config.ts';
import { newGroupId } from './domain/ids.ts';
import type { Deps } from './domain/ports.ts';
import { createEndpointFactory } from './http/endpoint.ts';
import { createDocumentClient } from './store/client.ts';
import { createStore } from './store/index.ts';

/**
 * The composition root of every HTTP function: config, clients and repositories are created once
 * per container (at cold start), then shared by every invocation.
 */

/** A waiting invitation or join request lapses after 7 days. */
const NOTICE_TTL_S = 7 * 24 * 3600;

export const store = createStore(createDocumentClient(), config.TABLE_NAME);

export const deps: Deps = {
  groups: store.groups,
  members: store.members,
  users: store.users,
  invitations: store.invitations,
  departures: store.departures,
  roles: store.roles,
  settings: store.settings,
  controls: store.controls,
  copy: store.copy,
  janitor: store.janitor,
  limits: {
    maxGroupMembers: config.MAX_GROUP_MEMBERS,
    maxUserGroups: config.MAX_USER_GROUPS,
    noticeTtlS: NOTICE_TTL_S,
    copyProtectionMs: config.COPY_PROTECTION_MS,
    copyIntervalMs: config.COPY_INTERVAL_MS,
  },
  now: Date.now,
  newGroupId,
};

/** Wraps a handler in the shared stack; the caller's profile claims are projected before it runs. */
export const endpoint = createEndpointFactory((caller) => store.users.projectClaims(caller.userId, caller.profile));
