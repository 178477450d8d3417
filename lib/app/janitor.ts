import type { JanitorDeps } from '../domain/ports.ts';
import { janitor } from './store/janitor.ts';
import { roles } from './store/roles.ts';

/** The root of the janitor (lib/domain/janitor.ts). */
export const deps: JanitorDeps = { janitor, roles, now: Date.now };
