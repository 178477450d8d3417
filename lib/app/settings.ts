import type { SettingsDeps } from '../domain/ports.ts';
import { groupReads } from './store/group-reads.ts';
import { settings } from './store/settings.ts';

/** The root of the settings functions (lib/domain/settings.ts): bulletins, portrait, display name, certification, member protection, member info. */
export const deps: SettingsDeps = { settings, groups: groupReads, now: Date.now };
