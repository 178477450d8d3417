import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import type { ProfileFields } from '../domain/model.ts';
import * as z from 'zod/mini';
import { preprocess } from '../zod.ts';

/**
 * Who is calling: read from the JWT claims API Gateway's authorizer verified (locally, the local
 * gateway builds the same event). Never from the body.
 */

export interface Caller {
  userId: string;
  profile: ProfileFields;
}

/**
 * Best effort, as classic zod's `.catch(undefined)`: what `schema` makes of a claim, or undefined when
 * it does not parse. (zod/mini's `catch` would bundle the whole of zod's util module.)
 */
const bestEffort = <S extends z.core.$ZodType>(schema: S) =>
  z.optional(
    z.transform((claim: unknown): z.output<S> | undefined => {
      const parsed = z.safeParse(schema, claim);
      return parsed.success ? parsed.data : undefined;
    }),
  );

/**
 * API Gateway passes claims as strings (numbers and booleans too); accept both forms. Profile claims
 * are best effort: a malformed one is ignored; only `sub` decides who is calling.
 */
const optionalText = bestEffort(
  preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.optional(z.string().check(z.maxLength(1024)))),
);

const claimsSchema = z.object({
  sub: z.string().check(z.minLength(1), z.maxLength(64)),
  name: optionalText,
  picture: optionalText,
  phone_number: optionalText,
  gender: optionalText,
  st_account: optionalText,
  group_verify: bestEffort(
    preprocess((v) => (v === undefined || v === null || v === '' ? undefined : Number(v)), z.optional(z.union([z.literal(0), z.literal(1)]))),
  ),
});

export class Unauthenticated extends Error {
  constructor() {
    super('Unauthorized');
    this.name = 'Unauthenticated';
  }
}

/** Cognito user pools can only issue non-standard claims as `custom:<name>`; accept both spellings. */
const CUSTOM_CLAIMS = ['st_account', 'group_verify'] as const;

const withCustomClaims = (claims: Record<string, unknown>): Record<string, unknown> => {
  const out = { ...claims };
  for (const name of CUSTOM_CLAIMS) out[name] ??= claims[`custom:${name}`];
  return out;
};

export const callerFromEvent = (event: APIGatewayProxyEventV2WithJWTAuthorizer): Caller => {
  const parsed = claimsSchema.safeParse(withCustomClaims(event.requestContext?.authorizer?.jwt?.claims ?? {}));
  if (!parsed.success) throw new Unauthenticated();
  const c = parsed.data;
  const profile: ProfileFields = {};
  if (c.name !== undefined) profile.nickname = c.name;
  if (c.picture !== undefined) profile.portraitUri = c.picture;
  if (c.phone_number !== undefined) profile.phone = c.phone_number;
  if (c.gender !== undefined) profile.gender = c.gender;
  if (c.st_account !== undefined) profile.stAccount = c.st_account;
  if (c.group_verify !== undefined) profile.groupVerify = c.group_verify;
  return { userId: c.sub, profile };
};
