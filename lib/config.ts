import * as z from 'zod/mini';
import { coercedNumber } from './zod.ts';

/**
 * Configuration, parsed once at cold start. A missing or malformed variable fails the cold start
 * with a message naming it, not the first request.
 */
const schema = z.object({
  TABLE_NAME: z.string().check(z.minLength(1)),
  /** Default `maxMemberCount` of new groups (the reference's 500). */
  MAX_GROUP_MEMBERS: z._default(coercedNumber().check(z.int(), z.gte(2), z.lte(3000)), 500),
  /** How many groups one user may be a member of (the reference's 500). */
  MAX_USER_GROUPS: z._default(coercedNumber().check(z.int(), z.gte(1)), 500),
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error', 'silent']), 'info'),
  /** copy_group: a group younger than this cannot be copied (the documented 7 days). */
  COPY_PROTECTION_MS: z._default(coercedNumber().check(z.int(), z.gte(0)), 7 * 24 * 3600 * 1000),
  /** copy_group: a group copied less than this ago cannot be copied again (the documented 7 days). */
  COPY_INTERVAL_MS: z._default(coercedNumber().check(z.int(), z.gte(0)), 7 * 24 * 3600 * 1000),
});

export type Config = z.infer<typeof schema>;

/** Parses `env` with `envSchema`; a problem throws one line naming each variable. */
export const parseEnv = <S extends z.core.$ZodType>(envSchema: S, env: NodeJS.ProcessEnv): z.output<S> => {
  const parsed = z.safeParse(envSchema, env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
};

export const parseConfig = (env: NodeJS.ProcessEnv): Config => parseEnv(schema, env);

export const config: Config = parseConfig(process.env);
