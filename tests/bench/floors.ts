/**
 * The least DynamoDB work each endpoint's item access needs: what any implementation of the same
 * API on this table would have to read and write, given the contracts (DESIGN.md): every change
 * commits its domain event in the same transaction (one outbox item), counters are kept exact by
 * conditions in that transaction, and the API shows a change to the caller's next request.
 *
 * Units, by DynamoDB's rules, for items of the sizes the benchmark's fixtures have (every group,
 * member, profile, notice and event item there is under 1 KB; `endpoints.ts` prints the sizes):
 *
 * - reads a write endpoint decides on: eventually consistent, 0.5 unit per item (the transaction's
 *   conditions catch anything stale, so nothing stronger is needed); a query: 0.5 per 4 KB;
 * - group and member items a read endpoint returns: strongly consistent, 1 unit per item or per
 *   4 KB queried, so a client reading right after its own write sees it; what only decorates a
 *   read (profiles, notices, the groups of a user's list) eventually consistent, 0.5;
 * - a write of one item: 1 unit, plus 1 for each index the item is in (member items are in gsi1,
 *   the users' group lists; a group item with a schedule entry is in gsi2); twice that inside a
 *   transaction; a transaction's condition check on another item: 2 units. Every admission deletes
 *   the user's exit record by key without reading it (docs/invariants.md): a delete, counted even
 *   when there is nothing to delete, because a departure racing the admission must not leave one.
 *
 * `maxRoundTrips` is the sequential DynamoDB round trips the endpoint needs: 2 for single-group
 * reads and writes (read what the decision needs in parallel, then commit), more only where a
 * read depends on an earlier one and says why.
 */

export interface Floor {
  /** Read units. */
  readonly reads: number;
  /** Write units. */
  readonly writes: number;
  readonly maxRoundTrips: number;
  /** The derivation, in words. */
  readonly why: string;
}

/** Eventually consistent point reads of `n` items. */
const get = (n: number) => n / 2;
/** Strongly consistent point reads of `n` items. */
const getStrong = (n: number) => n;
/** An eventually consistent query reading `items` items of about `bytes` each. */
const query = (items: number, bytes: number) => Math.max(1, Math.ceil((items * bytes) / 4096)) / 2;
/** A strongly consistent query. */
const queryStrong = (items: number, bytes: number) => 2 * query(items, bytes);
/** One transaction: `items` plain items, `members` member items (table + gsi1), `checks` condition checks on other items. */
const tx = ({ items = 0, members = 0, checks = 0 }: { items?: number; members?: number; checks?: number }) => 2 * (items + 2 * members + checks);

/** Bytes of a member item in the fixtures (endpoints.ts prints the measured size). */
const MEMBER_BYTES = 300;
/** Bytes of an inbox pointer, an exit record, a saved-group item. */
const SMALL_BYTES = 200;

const floor = (reads: number, writes: number, maxRoundTrips: number, why: string): Floor => ({ reads, writes, maxRoundTrips, why });

const single = 2;

export const FLOORS: Record<string, Floor> = {
  'POST /group/create (10 members)': floor(
    get(10),
    tx({ items: 1 + 10 + 1, members: 10 }),
    single,
    'read the 10 users (group limit, invitation setting); one transaction: the group, 10 members, 10 group counts, the event',
  ),
  'POST /group/add (1 user)': floor(
    get(4),
    tx({ items: 4, members: 1, checks: 1 }),
    single,
    "read the group, the caller's and the user's member items and the user's profile; commit: the member, the group's and the user's counts, the user's exit record deleted by key, the event, the caller still a member",
  ),
  'POST /group/join': floor(
    get(3),
    tx({ items: 4, members: 1 }),
    single,
    "read the group, the caller's member item and profile; commit: the member, both counts, the caller's exit record deleted by key, the event",
  ),
  "POST /group/join (the caller's first request (claims projected))": floor(
    get(3),
    tx({ items: 4, members: 1 }) + 1,
    single,
    "as a join, plus writing the token's profile claims once (1 unit); the projection must not add a round trip",
  ),
  'POST /group/kick (1 member)': floor(
    get(4),
    tx({ items: 4, members: 1 }),
    single,
    "read the group, the caller's and the member's member items and the member's profile (the exit record names them); commit: the group's count, the member deleted, the user's count, the exit record, the event",
  ),
  'POST /group/quit': floor(
    get(3),
    tx({ items: 4, members: 1 }),
    single,
    "read the group, the caller's member item and profile; commit: the group's count, the member deleted, the user's count, the exit record, the event",
  ),
  'POST /group/dismiss (10 members)': floor(
    get(1),
    tx({ items: 2 }) + 2,
    single,
    'read the group; commit: the group dismissed with its cleanup entry (gsi2), the event; the members are released by the group-cleanup consumer, not on the request path',
  ),
  'POST /group/transfer': floor(
    get(3),
    tx({ items: 2, members: 2 }),
    single,
    "read the group and both member items; commit: the group's owner, both roles, the event",
  ),
  'POST /group/set_manager (1 member)': floor(
    get(2),
    tx({ items: 2, members: 1 }),
    single,
    "read the group and the member's item; commit: the group's managers, the role, the event",
  ),
  'POST /group/remove_manager (1 manager)': floor(
    get(2),
    tx({ items: 2, members: 1 }),
    single,
    "read the group and the manager's item; commit: the group's managers, the role, the event",
  ),
  'POST /group/rename': floor(0, tx({ items: 2 }), single, "commit: the name on the group conditioned on the caller owning it, the event; nothing to read"),
  'POST /group/fav': floor(0, tx({ items: 1, checks: 2 }), single, 'commit: the saved-group item, conditioned on the group being active and the caller a member'),
  'DELETE /group/fav': floor(0, 1, single, 'delete the saved-group item'),
  'POST /group/set_bulletin': floor(get(1), tx({ items: 3 }), single, "read the group (the caller's role, the bulletin number); commit: the group, the bulletin's history item, the event"),
  'GET /group/get_bulletin': floor(getStrong(1), 0, single, 'read the group (bulletin and members kept on it)'),
  'POST /group/set_portrait_uri': floor(get(1), tx({ items: 2 }), single, 'read the group; commit: the group, the event'),
  'POST /group/set_display_name': floor(0, tx({ items: 1, members: 1 }), single, "commit: the caller's member item (conditioned on being one), the event"),
  'POST /group/set_certification': floor(get(1), tx({ items: 1 }), single, 'read the group; commit: the group (no event: clients are not told)'),
  'POST /group/agree (the owner approves a join request)': floor(
    get(4),
    tx({ items: 6, members: 1 }),
    single,
    "read the group, the notice, the caller's member item and the requester's profile; commit: the member, both counts, the notice decided, the owner's inbox pointer removed, the requester's exit record deleted by key, the event",
  ),
  'GET /group/notice_info (5 notices)': floor(
    query(5, SMALL_BYTES) + get(5) + get(5) + get(1),
    0,
    3,
    "the caller's inbox pointers (query), then the 5 notices and their group, then the 5 requesters' profiles: the notice names the requester, so the profiles depend on the notices (3 rounds)",
  ),
  'POST /group/clear_notice (1 notice)': floor(query(1, SMALL_BYTES), 1, single, "query the caller's inbox, delete its pointer"),
  'POST /group/mute_all': floor(get(1), tx({ items: 2 }), single, 'read the group (owner and managers: the speakers); commit: the group, the event'),
  'POST /group/set_regular_clear': floor(0, tx({ items: 2 }) + 2, single, 'commit: the group with its schedule entry (gsi2), the event, conditioned on the caller owning the group'),
  'POST /group/get_regular_clear': floor(getStrong(1), 0, single, 'read the group'),
  'POST /group/set_member_protection': floor(get(1), tx({ items: 2 }), single, 'read the group; commit: the group, the event'),
  'POST /group/set_member_info': floor(
    get(2),
    tx({ items: 1, members: 1 }),
    single,
    "read the group and the caller's member item (the target's, when it is another); commit: the member item, the event",
  ),
  'POST /group/get_member_info': floor(getStrong(3), 0, single, "read the group (member protection), the caller's and the member's items"),
  'POST /group/copy_group (10 members)': floor(
    get(2) + query(10, MEMBER_BYTES) + get(10),
    tx({ items: 1 + 10 + 1 + 1, members: 10 }),
    4,
    "read the source group and the caller's member item; only then query its members (a stranger must not make us read up to 3000 items); read their profiles (the limits); commit like a create of 10 plus the source's copy time",
  ),
  'POST /group/exited_list (5 exits)': floor(getStrong(2) + queryStrong(5, SMALL_BYTES), 0, single, "read the group and the caller's member item, query the exit records"),
  'GET /group/{id}': floor(getStrong(1), 0, 1, 'read the group (any signed-in user may: clients show it before joining)'),
  'GET /group/{id}/members (10 members)': floor(
    getStrong(2) + queryStrong(10, MEMBER_BYTES) + get(10),
    0,
    single,
    "read the group and the caller's member item while querying the members, then their 10 profiles (batch reads in parallel)",
  ),
  'GET /group/{id}/members (500 members)': floor(
    getStrong(2) + queryStrong(500, MEMBER_BYTES) + get(500),
    0,
    single,
    "read the group and the caller's member item while querying the members, then their 500 profiles (batch reads in parallel)",
  ),
  'GET /user/groups (20 groups)': floor(query(20, MEMBER_BYTES) + get(20), 0, single, "query the caller's memberships (gsi1), then read the 20 groups"),
  'GET /user/favgroups (5 saved)': floor(query(5, SMALL_BYTES) + get(5), 0, single, "query the caller's saved groups, then read the 5 groups"),
};
