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
}

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
      const fields = Object.entries(claims).filter(([, v]) => v !== undefined);
      if (fields.length === 0) return;
      const hash = createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
      if (recent.get(userId) === hash) return;

      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':hash': hash, ':u': userId, ':k': 'profile', ':now': Date.now() };
      const sets = fields.map(([field, value], i) => {
        names[`#f${i}`] = field;
        values[`:v${i}`] = value;
        return `#f${i} = :v${i}`;
      });
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: keys.profile(userId),
            UpdateExpression: `SET ${[...sets, 'claimsHash = :hash', 'userId = :u', 'kind = :k', 'updatedAt = :now'].join(', ')}`,
            ConditionExpression: 'attribute_not_exists(claimsHash) OR claimsHash <> :hash',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      if (recent.size >= RECENT_LIMIT) recent.clear();
      recent.set(userId, hash);
    },
  };
};
