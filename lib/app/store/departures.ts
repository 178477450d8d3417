import { createDepartureStore } from '../../store/departures.ts';
import { client, tableName } from './client.ts';
import { membership } from './membership.ts';

/** The departure store (kick, quit, exits). */
export const departures = createDepartureStore(client, tableName, membership);
