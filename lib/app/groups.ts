import { newGroupId } from '../domain/ids.ts';
import type { GroupsDeps } from '../domain/ports.ts';
import { limits } from './limits.ts';
import { groups } from './store/groups.ts';
import { members } from './store/members.ts';
import { users } from './store/users.ts';

/** The root of the group lifecycle functions (lib/domain/groups.ts, lib/domain/copy.ts): create, read, members, rename, a user's groups, copy. */
export const deps: GroupsDeps = { groups, members, users, limits, now: Date.now, newGroupId };
