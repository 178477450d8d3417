/**
 * Every key of the single table is built here and nowhere else. Each builder names the access
 * pattern it serves.
 */

export interface Key {
  pk: string;
  sk: string;
}

const GROUP = 'GROUP#';
const USER = 'USER#';
const MEMBER = 'MEMBER#';
const INBOX = 'INBOX#';
const EXITED = 'EXITED#';
const CLEAR = 'CLEAR#';
const REPAIR = 'REPAIR#';

export const keys = {
  /** Get a group's metadata item: `GetItem GROUP#g / META`. */
  group: (groupId: string): Key => ({ pk: `${GROUP}${groupId}`, sk: 'META' }),

  /** Get one membership: `GetItem GROUP#g / MEMBER#u`. */
  member: (groupId: string, userId: string): Key => ({ pk: `${GROUP}${groupId}`, sk: `${MEMBER}${userId}` }),
  /** List a group's members, ascending user id: `Query pk = GROUP#g AND begins_with(sk, MEMBER#)`. */
  membersOf: (groupId: string) => ({ pk: `${GROUP}${groupId}`, skPrefix: MEMBER }),
  /** GSI1 keys of a membership, so a user's groups are one query. */
  memberGsi1: (groupId: string, userId: string) => ({ gsi1pk: `${USER}${userId}`, gsi1sk: `${GROUP}${groupId}` }),
  /** List a user's groups: `Query gsi1 gsi1pk = USER#u AND begins_with(gsi1sk, GROUP#)`. */
  groupsOfUser: (userId: string) => ({ gsi1pk: `${USER}${userId}`, gsi1skPrefix: GROUP }),

  /** A user's profile (nickname, portrait, ..., groupVerify, groupCount): `GetItem USER#u / PROFILE`. */
  profile: (userId: string): Key => ({ pk: `${USER}${userId}`, sk: 'PROFILE' }),

  /** A notice (invitation or join request), one per (group, type, receiver) so requests upsert. */
  notice: (groupId: string, type: number, receiverId: string): Key => ({ pk: `${GROUP}${groupId}`, sk: `NOTICE#${type}#${receiverId}` }),
  /** A group's notices (dismissal expires the waiting ones): `Query GROUP#g, begins_with(sk, NOTICE#)`. */
  noticesOf: (groupId: string) => ({ pk: `${GROUP}${groupId}`, skPrefix: 'NOTICE#' }),
  /** A notice in one viewer's notice list (points at the notice). */
  inbox: (viewerId: string, groupId: string, type: number, receiverId: string): Key => ({
    pk: `${USER}${viewerId}`,
    sk: `${INBOX}${groupId}#${type}#${receiverId}`,
  }),
  /** A viewer's notice list: `Query USER#u, begins_with(sk, INBOX#)`. */
  inboxOf: (viewerId: string) => ({ pk: `${USER}${viewerId}`, skPrefix: INBOX }),

  /**
   * A user's departure from a group: `GROUP#g / EXITED#u`. One per user: a departure needs a
   * membership, and every re-admission deletes the record in its own transaction (by this key, so
   * it needs no read that a concurrent departure could make stale).
   */
  exited: (groupId: string, userId: string): Key => ({ pk: `${GROUP}${groupId}`, sk: `${EXITED}${userId}` }),
  /** A group's exited list: `Query GROUP#g, begins_with(sk, EXITED#)`. */
  exitedOf: (groupId: string) => ({ pk: `${GROUP}${groupId}`, skPrefix: EXITED }),

  /**
   * One domain event in the outbox, written in the same transaction as the change it describes.
   * Keyed by the event's stream key (its group): all events of one group share a partition, so
   * they share a stream shard and the relay sees them in commit order. The sort key orders them
   * within the partition (decision time, taken after the change's last read; then position in the
   * transaction). The stream gives the commit order.
   */
  outbox: (streamKey: string, createdAt: number, seq: number, eventId: string): Key => ({
    pk: `OUTBOX#${streamKey}`,
    sk: `EVENT#${String(createdAt).padStart(15, '0')}#${String(seq).padStart(3, '0')}#${eventId}`,
  }),

  /** One published bulletin, by its per-group counter: `GROUP#g / BULLETIN#<id>`. */
  bulletin: (groupId: string, id: number): Key => ({ pk: `${GROUP}${groupId}`, sk: `BULLETIN#${String(id).padStart(10, '0')}` }),

  /** A group a user saved to their contacts: `USER#u / FAV#g`. */
  fav: (userId: string, groupId: string): Key => ({ pk: `${USER}${userId}`, sk: `FAV#${groupId}` }),
  /** A user's saved groups: `Query USER#u, begins_with(sk, FAV#)`. */
  favsOf: (userId: string) => ({ pk: `${USER}${userId}`, skPrefix: 'FAV#' }),

  /**
   * The regular-clear schedule entry (sparse GSI2, present only while clearing is on): due groups
   * are one query per shard, `gsi2pk = CLEAR#<shard> AND gsi2sk <= <now>`.
   */
  clearSchedule: (groupId: string, nextClearAt: number) => ({
    gsi2pk: `${CLEAR}${clearShardOf(groupId)}`,
    gsi2sk: `${String(nextClearAt).padStart(15, '0')}#${groupId}`,
  }),
  /**
   * The janitor's entry on a group item that an interrupted request may leave unfinished (sparse
   * GSI2, same shards): a chunked creation while it is `creating`, a dismissal until its cleanup
   * finished. Due entries are one query per shard, `gsi2pk = REPAIR#<shard> AND gsi2sk <= <now>`.
   */
  repairSchedule: (groupId: string, dueAt: number) => ({
    gsi2pk: `${REPAIR}${clearShardOf(groupId)}`,
    gsi2sk: `${String(dueAt).padStart(15, '0')}#${groupId}`,
  }),
  /** GSI2 partitions of one schedule (`CLEAR#0..7` or `REPAIR#0..7`), each queried for due entries. */
  scheduleShards: (schedule: 'clear' | 'repair'): string[] =>
    Array.from({ length: CLEAR_SHARDS }, (_, shard) => `${schedule === 'clear' ? CLEAR : REPAIR}${shard}`),
  /** The GSI2 sort key bound of entries due at or before `now`: `gsi2sk < scheduleDueBefore(now)`. */
  scheduleDueBefore: (now: number): string => `${String(now + 1).padStart(15, '0')}#`,
  /** The group id inside a GSI2 schedule sort key (`<due ms>#<groupId>`). */
  groupOfSchedule: (gsi2sk: string): string => gsi2sk.slice(16),
  /** The due time (epoch ms) inside a GSI2 schedule sort key (`<due ms>#<groupId>`). */
  dueAtOfSchedule: (gsi2sk: string): number => Number(gsi2sk.slice(0, 15)),

  /**
   * One regular-clear run of a group (its chunks, which of them are done, the calls made):
   * `GROUP#g / CLEARRUN#<run id>`; `begins_with(sk, CLEARRUN#)` lists a group's runs.
   */
  clearRun: (groupId: string, runId: string): Key => ({ pk: `${GROUP}${groupId}`, sk: `CLEARRUN#${runId}` }),

  /** What the notifier already did for one event (idempotency ledger): `GetItem DELIVERY#e / <consumer>`. */
  delivery: (eventId: string, consumer: string): Key => ({ pk: `DELIVERY#${eventId}`, sk: consumer }),

  /** What the IM system (RongCloud) was last told about a group: `GetItem GROUP#g / IM`. */
  imMirror: (groupId: string): Key => ({ pk: `${GROUP}${groupId}`, sk: 'IM' }),
};

/** Shards of the GSI2 schedules (regular clear, janitor): spread due groups over partitions, one query each. */
export const CLEAR_SHARDS = 8;
export const clearShardOf = (groupId: string): number => {
  let hash = 0;
  for (const char of groupId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % CLEAR_SHARDS;
};

/** The group id inside a `GROUP#g` key. */
export const groupIdOf = (pk: string): string => pk.slice(GROUP.length);
/** The user id inside a `MEMBER#u` sort key. */
export const memberIdOf = (sk: string): string => sk.slice(MEMBER.length);
