import { describe, expect, it } from 'vitest';
import { deps } from '#lib/app.ts';
import { NotAllowed } from '#lib/domain/errors.ts';
import { addMembers, InvitationConflict, joinGroup } from '#lib/domain/invitations.ts';
import { KEPT_CHANGING } from '#lib/domain/stale.ts';
import { createGroup } from '#tests/helpers/endpoints.ts';
import { stateOf, users } from '#tests/helpers/checks.ts';

/**
 * add / join under contention that never settles (every commit refused as stale, as DynamoDB does
 * when concurrent transactions keep winning): a 405 "try again" like every other endpoint, never a
 * 500, after a bounded number of attempts, and nothing written.
 */
describe('membership changes that keep losing to concurrent ones', () => {
  const alwaysStale = () => {
    let attempts = 0;
    const d = {
      ...deps,
      invitations: {
        ...deps.invitations,
        commit: () => {
          attempts += 1;
          return Promise.reject(new InvitationConflict({ kind: 'stale' }));
        },
      },
    };
    return { d, attempts: () => attempts };
  };

  it('add answers NotAllowed (405) "try again" after its attempts, writing nothing', async () => {
    const [owner, member, newcomer] = users('owner', 'member', 'newcomer');
    const id = await createGroup(owner, [member]);
    const before = await stateOf(id);
    const { d, attempts } = alwaysStale();
    const refused = addMembers(d, owner, { groupId: id, memberIds: [newcomer] });
    await expect(refused).rejects.toBeInstanceOf(NotAllowed);
    await expect(refused).rejects.toThrow(KEPT_CHANGING);
    expect(attempts()).toBeGreaterThan(1);
    expect(await stateOf(id)).toEqual(before);
  });

  it('join answers the same', async () => {
    const [owner, member, joiner] = users('owner', 'member', 'joiner');
    const id = await createGroup(owner, [member]);
    const { d } = alwaysStale();
    await expect(joinGroup(d, joiner, { groupId: id })).rejects.toThrow(KEPT_CHANGING);
  });
});
