import * as z from 'zod/mini';
import '../zod.ts';

/**
 * Events this service consumes from others (source `USER_EVENT_SOURCE`, lib/events/index.ts).
 * `UserProfileUpdated` comes from the upstream user service: the fields it carries replace the
 * user's profile fields. Only its consumer (functions/user-profile-updated.ts) bundles this.
 */

const profileText = z.optional(z.string().check(z.maxLength(1024)));

export const consumedEventSchemas = {
  UserProfileUpdated: z.object({
    userId: z.string().check(z.minLength(1), z.maxLength(64)),
    nickname: profileText,
    portraitUri: profileText,
    phone: profileText,
    gender: profileText,
    stAccount: profileText,
    groupVerify: z.optional(z.union([z.literal(0), z.literal(1)])),
  }),
} as const;

export type UserProfileUpdated = z.infer<typeof consumedEventSchemas.UserProfileUpdated>;
