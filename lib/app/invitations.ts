import type { InvitationsDeps } from '../domain/ports.ts';
import { limits } from './limits.ts';
import { groupReads } from './store/group-reads.ts';
import { invitations } from './store/invitations.ts';
import { users } from './store/users.ts';

/** The root of the invitation functions (lib/domain/invitations.ts): add, join, agree, notices. */
export const deps: InvitationsDeps = { groups: groupReads, users, invitations, limits, now: Date.now };
