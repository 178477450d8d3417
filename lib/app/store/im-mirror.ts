import { createImMirrorStore } from '../../store/im-mirror.ts';
import { client, tableName } from './client.ts';

/** The notifier's record of the IM groups it created. */
export const imMirror = createImMirrorStore(client, tableName);
