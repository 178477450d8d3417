import { createClearingStore } from '../../store/clearing.ts';
import { client, commit, tableName } from './client.ts';

/** Regular clearing's store. */
export const clearing = createClearingStore(client, tableName, commit);
