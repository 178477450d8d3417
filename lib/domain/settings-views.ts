import type { PublishedBulletin } from './settings.ts';

/**
 * Wire shapes of the settings endpoints, as the clients parse them (sealtalk-clients.md §12, §25).
 */

/**
 * GET /group/get_bulletin: `id` the per-group counter (a number: Android declares it `int`),
 * `content`, `timestamp` in ms. No `groupId`: ours is not numeric and would break Android's parse.
 */
export const bulletinView = (b: PublishedBulletin) => ({ id: b.id, content: b.content, timestamp: b.time });
