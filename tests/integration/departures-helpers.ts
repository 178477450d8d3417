import { keys } from '#lib/store/keys.ts';
import { api, createGroup } from '#tests/helpers/endpoints.ts';
import { eventsFor, groupItem, partitionItems, patch, profileItem } from '#tests/helpers/db.ts';
import { uniqueUserId } from '#tests/helpers/ids.ts';

/** Shared set-ups of the departures tests (kick, quit, exited_list). */

/** Gives users a nickname and portrait, as their tokens' claims would (projected on their first call). */
export const named = async (...users: string[]): Promise<void> => {
  await Promise.all(users.map((u) => api.userGroups({ sub: u, name: `Nick ${u}`, picture: `https://img.example/${u}.png` })));
};

/** A group of the owner and `n` others (all named), ids in creation order. */
export const groupWith = async (n: number): Promise<{ id: string; owner: string; others: string[] }> => {
  const owner = uniqueUserId('owner');
  const others = Array.from({ length: n }, (_, i) => uniqueUserId(`m${i}`));
  await named(owner, ...others);
  const id = await createGroup(owner, others);
  return { id, owner, others };
};

/** Makes members managers in both places that hold the role (member items and the group's list). */
export const makeManagers = async (groupId: string, ...userIds: string[]): Promise<void> => {
  await Promise.all(userIds.map((u) => patch(keys.member(groupId, u), { role: 2 })));
  const current = ((await groupItem(groupId))?.managerIds ?? []) as string[];
  await patch(keys.group(groupId), { managerIds: [...current, ...userIds] });
};

export const dismiss = (groupId: string) => patch(keys.group(groupId), { status: 'dismissed', deletedAt: new Date().toISOString() });

/** Everything a departure could change, to assert that a refusal changed nothing. */
export const snapshot = async (groupId: string, users: string[]) => {
  const group = await groupItem(groupId);
  return {
    group: { memberCount: group?.memberCount, creatorId: group?.creatorId, managerIds: group?.managerIds, status: group?.status, version: group?.version },
    members: (await partitionItems(groupId, 'MEMBER#')).map((m) => `${m.userId as string}:${m.role as number}`).sort(),
    exits: (await partitionItems(groupId, 'EXITED#')).length,
    events: (await eventsFor(groupId)).length,
    groupCounts: await Promise.all(users.map(async (u) => (await profileItem(u))?.groupCount)),
  };
};

/** Member items and the group item agree on exactly one owner (and it is `expected`). */
export const ownersOf = async (groupId: string) => {
  const members = await partitionItems(groupId, 'MEMBER#');
  return {
    creatorId: (await groupItem(groupId))?.creatorId,
    roleZero: members.filter((m) => m.role === 0).map((m) => m.userId),
    managers: members.filter((m) => m.role === 2).map((m) => m.userId as string).sort(),
  };
};
