import { createRoleStore } from '../../store/roles.ts';
import { client, tableName } from './client.ts';
import { membership } from './membership.ts';

/** The role store (dismiss, transfer, managers, cleanups). */
export const roles = createRoleStore(client, tableName, membership);
