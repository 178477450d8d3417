import type { RolesDeps } from '../domain/ports.ts';
import { roles } from './store/roles.ts';

/** The root of the role functions (lib/domain/roles.ts): dismiss, transfer, managers, and the cleanup consumer. */
export const deps: RolesDeps = { roles, now: Date.now };
