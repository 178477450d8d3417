import type { InvitationsDeps } from '../domain/ports.ts';
import { limits } from './limits.ts';
import { groups } from './store/groups.ts';
import { invitations } from './store/invitations.ts';
import { users } from './store/users.ts';

/** The root of the invitation functions (lib/domain/invitations.ts): add, join, agree, notices. */
export const deps: InvitationsDeps = { groups, users, invitations, limits, now: Date.now };
