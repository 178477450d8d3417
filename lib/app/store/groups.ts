import { createGroupRepository } from '../../store/groups.ts';
import { client, commit, tableName } from './client.ts';

/** The container's group repository. */
export const groups = createGroupRepository(client, tableName, commit);
