import { createInvitationStore } from '../../store/invitations.ts';
import { client, tableName } from './client.ts';
import { membership } from './membership.ts';

/** The invitation store. */
export const invitations = createInvitationStore(client, tableName, membership);
