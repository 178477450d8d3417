import { createControlsStore } from '../../store/controls.ts';
import { client, tableName } from './client.ts';
import { membership } from './membership.ts';

/** The controls store (mute, regular clear, favourites). */
export const controls = createControlsStore(client, tableName, membership);
