import { createJanitorStore } from '../../store/janitor.ts';
import { client, commit, tableName } from './client.ts';

/** The janitor's store. */
export const janitor = createJanitorStore(client, tableName, commit);
