import { createSettingsStore } from '../../store/settings.ts';
import { client, tableName } from './client.ts';
import { membership } from './membership.ts';

/** The settings store. */
export const settings = createSettingsStore(client, tableName, membership);
