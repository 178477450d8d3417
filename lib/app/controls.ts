import type { ControlsDeps } from '../domain/ports.ts';
import { controls } from './store/controls.ts';
import { groupReads } from './store/group-reads.ts';

/** The root of the controls functions (lib/domain/controls.ts): mute_all, regular clear, favourites. */
export const deps: ControlsDeps = { controls, groups: groupReads, now: Date.now };
