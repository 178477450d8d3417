import { users } from '#lib/app/store/users.ts';
import { consumer } from '#lib/events/consumer.ts';
import { consumedEventSchemas } from '#lib/events/consumed.ts';
import { withInvocation } from '#lib/metrics.ts';

/** `UserProfileUpdated` from the user service: the fields it carries replace the user's profile. */
export const handler = withInvocation('user-profile-updated', consumer(consumedEventSchemas.UserProfileUpdated, async ({ detail, time, log }) => {
  const { userId, ...fields } = detail;
  const applied = await users.applyProfileEvent(userId, fields, time);
  log.info(applied ? 'profile updated' : 'older profile event ignored', { userId, fields: Object.keys(fields) });
}));
