import { createHash } from 'node:crypto';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unknownProfile, type Profile, type ProfileFields } from '../domain/model.ts';
import type { UserRepository } from '../domain/ports.ts';
import { batchGet } from './batch.ts';
import { writeIf } from './conditional.ts';
import { keys } from './keys.ts';
import { parseProfile } from './items.ts';

/**
 * User profiles: what member lists, notices and IM messages show. Profile claims of each caller's
 * token are projected here when they change; the group count lives on the same item.
 */

const RECENT_LIMIT = 10_000;

export interface UserStore extends UserRepository {
  /** Writes the claims the token carries, unless this exact set was already written. */
  projectClaims(userId: string, claims: ProfileFields): Promise<void>;
  /**
   * Applies a `UserProfileUpdated` event from the user service, unless a newer one was already
   * applied (events may arrive out of order). Returns whether it was applied.
   */
  applyProfileEvent(userId: string, fields: ProfileFields, eventTime: number): Promise<boolean>;
}

export const createUserRepository = (client: DynamoDBDocumentClient, tableName: string): UserStore => {
  /** Claims hashes this container already wrote: most requests then cost no write at all. */
  const recent = new Map<string, string>();
  /**
   * Claims being written right now (the projection runs alongside the request's reads), and when
   * each write finished: a profile read that began before then shows them, so the request that
   * brings new claims already uses them (as it did when the projection ran first).
   */
  const projecting = new Map<string, { fields: ProfileFields; doneAt?: number }>();

  const withProjected = (profile: Profile, readAt: number): Profile => {
    const entry = projecting.get(profile.userId);
    if (!entry) return profile;
    if (entry.doneAt !== undefined && entry.doneAt < readAt) {
      projecting.delete(profile.userId);
      return profile;
    }
    return { ...profile, ...Object.fromEntries(defined(entry.fields)) };
  };

  const defined = (fields: ProfileFields) => Object.entries(fields).filter(([, v]) => v !== undefined);

  /**
   * Sets the defined `fields` on a profile, guarded by `guard` (an attribute the same source keeps
   * and a condition on it). Returns false when the guard refused the write.
   */
  const writeProfile = async (
    userId: string,
    fields: ProfileFields,
    guard: { attribute: string; value: unknown; condition: string },
  ): Promise<boolean> => {
    const names: Record<string, string> = { '#guard': guard.attribute };
    const values: Record<string, unknown> = { ':guard': guard.value, ':u': userId, ':k': 'profile', ':now': Date.now() };
    const sets = ['#guard = :guard', 'userId = :u', 'kind = :k', 'updatedAt = :now'];
    defined(fields).forEach(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      sets.push(`#f${i} = :v${i}`);
    });
    return writeIf(() =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.profile(userId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: guard.condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  };

  return {
    async getProfiles(userIds) {
      const readAt = performance.now();
      const items = await batchGet(client, tableName, userIds.map(keys.profile));
      const found = new Map(items.map((item) => parseProfile(item)).map((p): [string, Profile] => [p.userId, p]));
      return new Map(userIds.map((id): [string, Profile] => [id, withProjected(found.get(id) ?? unknownProfile(id), readAt)]));
    },

    async projectClaims(userId, claims) {
      const fields = defined(claims);
      if (fields.length === 0) return;
      const hash = createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
      if (recent.get(userId) === hash) return;
      // Written only when this token's claims differ from the last token's, so an unchanged token
      // never undoes a newer UserProfileUpdated event.
      const entry: { fields: ProfileFields; doneAt?: number } = { fields: claims };
      if (projecting.size >= RECENT_LIMIT) projecting.clear();
      projecting.set(userId, entry);
      try {
        await writeProfile(userId, claims, {
          attribute: 'claimsHash',
          value: hash,
          condition: 'attribute_not_exists(claimsHash) OR claimsHash <> :guard',
        });
      } catch (error) {
        if (projecting.get(userId) === entry) projecting.delete(userId);
        throw error;
      } finally {
        entry.doneAt = performance.now();
      }
      if (recent.size >= RECENT_LIMIT) recent.clear();
      recent.set(userId, hash);
    },

    async applyProfileEvent(userId, fields, eventTime) {
      if (defined(fields).length === 0) return false;
      return writeProfile(userId, fields, {
        attribute: 'profileEventAt',
        value: eventTime,
        condition: 'attribute_not_exists(profileEventAt) OR profileEventAt <= :guard',
      });
    },
  };
};
