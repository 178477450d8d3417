import * as z from 'zod/mini';
import { deps } from '#lib/app/groups.ts';
import { endpoint } from '#lib/app/http.ts';
import { listUserGroups } from '#lib/domain/groups.ts';
import { userGroupsView } from '#lib/domain/views.ts';

/** GET /user/groups — the caller's groups, with the caller's role in each. */
export const handler = endpoint({
  input: z.object({}),
  run: async ({ caller }) => userGroupsView(await listUserGroups(deps, caller.userId)),
});
