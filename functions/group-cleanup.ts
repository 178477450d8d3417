import type { Context, EventBridgeEvent } from 'aws-lambda';
import { deps } from '#lib/app/roles.ts';
import { cleanupDeparted, cleanupDismissedGroup } from '#lib/domain/roles.ts';
import { consumer } from '#lib/events/consumer.ts';
import { busDetailSchema } from '#lib/events/index.ts';
import type { Logger } from '#lib/log.ts';
import { withInvocation } from '#lib/metrics.ts';

/**
 * The group's cleanup after people leave. Idempotent and resumable: a retried, duplicate or
 * concurrent delivery finishes what is left and never counts twice.
 *
 * - `GroupDismissed` → releases the dismissed group's members (member items deleted, each member's
 *   group count −1, their favourite of the group deleted), drops its regular-clear schedule entry
 *   and expires its waiting notices (one `NoticesExpired`).
 * - `MembersKicked` / `MemberQuit` → the kicked members / the quitter lose their favourite of the
 *   group (unless they are members again by now).
 */
const dismissed = consumer(busDetailSchema('GroupDismissed'), async ({ detail, log }) => {
  const started = Date.now();
  const done = await cleanupDismissedGroup(deps, { groupId: detail.groupId, operatorId: detail.operatorId });
  if (done === null) log.warn('group is not dismissed; nothing to clean up', { groupId: detail.groupId });
  else log.info('dismissed group cleaned up', { groupId: detail.groupId, ...done, ms: Date.now() - started });
});

const departed = async (groupId: string, userIds: string[], log: Logger) => {
  const cleared = await cleanupDeparted(deps, { groupId, userIds });
  log.info('favourites of departed members removed', { groupId, users: userIds.length, cleared });
};

const kicked = consumer(busDetailSchema('MembersKicked'), ({ detail, log }) =>
  departed(detail.groupId, detail.memberIds, log),
);

const quit = consumer(busDetailSchema('MemberQuit'), ({ detail, log }) =>
  departed(detail.groupId, [detail.userId], log),
);

const byType: Record<string, (event: EventBridgeEvent<string, unknown>) => Promise<void>> = {
  GroupDismissed: dismissed,
  MembersKicked: kicked,
  MemberQuit: quit,
};

export const handler = withInvocation('group-cleanup', async (event: EventBridgeEvent<string, unknown>, _context?: Context): Promise<void> => {
  const run = byType[event['detail-type']];
  // Fails loudly: the rule should never deliver anything else.
  if (!run) throw new Error(`group-cleanup does not consume ${event['detail-type']} (event ${event.id})`);
  await run(event);
});
