import type { DeparturesDeps } from '../domain/ports.ts';
import { departures } from './store/departures.ts';
import { groupReads } from './store/group-reads.ts';
import { members } from './store/members.ts';
import { users } from './store/users.ts';

/** The root of the departure functions (lib/domain/departures.ts): kick, quit, the exited list. */
export const deps: DeparturesDeps = { groups: groupReads, members, users, departures, now: Date.now };
