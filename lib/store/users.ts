import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unknownProfile, type Profile } from '../domain/model.ts';
import type { UserRepository } from '../domain/ports.ts';
import type { ProfileClaims } from '../http/caller.ts';
import { batchGet } from './batch.ts';
import { keys } from './keys.ts';
import { parseProfile } from './items.ts';

/**
 * User profiles: what member lists, notices and IM messages show. Profile claims of each caller's
 * token are projected here when they change; the group count lives on the same item.
 */

const RECENT_LIMIT = 10_000;

export interface UserStore extends UserRepository {
  /** Writes the claims the token carries, unless this exact set was already written. */
  projectClaims(userId: string, claims: ProfileClaims): Promise<void>;
  /**
   * Applies a `UserProfileUpdated` event from the user service, unless a newer one was already
   * applied (events may arrive out of order). Returns whether it was applied.
   */
  applyProfileEvent(userId: string, fields: ProfileClaims, eventTime: number): Promise<boolean>;
}

/** `SET #f0 = :v0, ...` for the defined fields, with their names and values. */
const setFields = (fields: ProfileClaims) => {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      return `#f${i} = :v${i}`;
    });
  return { sets, names, values };
};

export const createUserRepository = (client: DynamoDBDocumentClient, tableName: string): UserStore => {
  /** Claims hashes this container already wrote: most requests then cost no write at all. */
  const recent = new Map<string, string>();

  return {
    async getProfiles(userIds) {
      const items = await batchGet(client, tableName, userIds.map(keys.profile));
      const found = new Map(items.map((item) => parseProfile(item)).map((p): [string, Profile] => [p.userId, p]));
      return new Map(userIds.map((id): [string, Profile] => [id, found.get(id) ?? unknownProfile(id)]));
    },

    async projectClaims(userId, claims) {
      const { sets, names, values } = setFields(claims);
      if (sets.length === 0) return;
      const hash = createHash('sha256').update(JSON.stringify([names, values])).digest('base64url');
      if (recent.get(userId) === hash) return;
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.profile(userId),
            UpdateExpression: `SET ${[...sets, 'claimsHash = :hash', 'userId = :u', 'kind = :k', 'updatedAt = :now'].join(', ')}`,
            ConditionExpression: 'attribute_not_exists(claimsHash) OR claimsHash <> :hash',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':hash': hash, ':u': userId, ':k': 'profile', ':now': Date.now() },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      if (recent.size >= RECENT_LIMIT) recent.clear();
      recent.set(userId, hash);
    },

    async applyProfileEvent(userId, fields, eventTime) {
      const { sets, names, values } = setFields(fields);
      if (sets.length === 0) return false;
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.profile(userId),
            UpdateExpression: `SET ${[...sets, 'profileEventAt = :at', 'userId = :u', 'kind = :k', 'updatedAt = :now'].join(', ')}`,
            ConditionExpression: 'attribute_not_exists(profileEventAt) OR profileEventAt <= :at',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':at': eventTime, ':u': userId, ':k': 'profile', ':now': Date.now() },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
};
