import { deps } from '#lib/app.ts';
import { cleanupDismissedGroup } from '#lib/domain/roles.ts';
import { consumer } from '#lib/events/consumer.ts';
import type * as z from 'zod';
import { busDetailSchema, type BusDetail } from '#lib/events/index.ts';

/**
 * `GroupDismissed` → releases the dismissed group's members (member items deleted, each member's
 * group count −1) and expires its waiting notices (one `NoticesExpired`). Idempotent and
 * resumable: a retried or duplicate delivery finishes what is left and never counts twice.
 */
const schema = busDetailSchema('GroupDismissed') as z.ZodType<BusDetail<'GroupDismissed'>>;

export const handler = consumer(schema, async ({ detail, log }) => {
  const started = Date.now();
  const done = await cleanupDismissedGroup(deps, { groupId: detail.groupId, operatorId: detail.operatorId });
  if (done === null) log.warn('group is not dismissed; nothing to clean up', { groupId: detail.groupId });
  else log.info('dismissed group cleaned up', { groupId: detail.groupId, ...done, ms: Date.now() - started });
});
