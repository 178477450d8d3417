import { createGroupReads } from '../../store/group-reads.ts';
import { client, tableName } from './client.ts';

/** The group reads of the functions that never create or rename a group (stateless, like the repository itself). */
export const groupReads = createGroupReads(client, tableName);
