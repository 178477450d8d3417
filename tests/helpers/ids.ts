import { randomBytes } from 'node:crypto';

/**
 * Every test file shares one table per run: name users (and anything else keyed by the caller) with
 * a unique suffix so tests never see each other's data. `uniqueUserId('alice')` → `alice-3f9a1c2b`.
 */
export const uniqueUserId = (prefix = 'user'): string => `${prefix}-${randomBytes(4).toString('hex')}`;
