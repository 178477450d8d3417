import { createMembershipWrites } from '../../store/membership.ts';
import { client, commit, tableName } from './client.ts';

/** The membership writes the invitation, departure, role, settings and controls stores share. */
export const membership = createMembershipWrites(client, tableName, commit);
