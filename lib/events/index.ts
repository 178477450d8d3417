import * as z from 'zod/mini';
import '../zod.ts';

/**
 * Domain events: one zod schema per change, imported by the publisher (the outbox in
 * lib/store/commit.ts), the CDK rule patterns and the notifier. An event name is typed once, here.
 */

export const EVENT_SOURCE = 'sealtalk.group';

/** Classic zod's `.describe()`: a copy of `schema` carrying `text` (the JSON Schemas' `description`). */
const described = <T extends z.ZodMiniType>(schema: T, text: string): T => {
  const copy = schema.clone();
  z.globalRegistry.add(copy, { description: text });
  return copy;
};

const id = z.string().check(z.minLength(1));
const groupId = described(id, 'The group (a SealTalk group id).');
const timestamp = described(z.number().check(z.int(), z.nonnegative()), 'When the change was committed (epoch ms).');
const ids = z.array(id).check(z.minLength(1));

export const eventSchemas = {
  /** A group was created: the IM group is created with `memberIds`, then ST:GrpNtf `Create`. */
  GroupCreated: z.object({
    groupId,
    operatorId: described(id, 'Who created the group: its owner.'),
    name: described(z.string(), 'The group name (HTML-escaped, as stored).'),
    portraitUri: z.string(),
    /** Members who joined at creation (the owner included), in the order the response lists them. */
    memberIds: described(z.array(id).check(z.minLength(1)), 'Members who joined at creation, the owner included (invitees are not members yet).'),
    timestamp,
  }),
  /** Invitations were issued: ST:GrpApply to `recipientIds` (type 1: to the invitees; 2: to managers). */
  GroupInvited: z.object({
    groupId,
    requesterId: described(id, 'Who invited (or asked to join).'),
    receiverIds: described(z.array(id).check(z.minLength(1)), 'The users the invitations are about.'),
    recipientIds: described(z.array(id).check(z.minLength(1)), 'Who must answer: the invitees (type 1) or the owner and managers (type 2).'),
    noticeType: described(z.union([z.literal(1), z.literal(2)]), '1: the invitee must consent; 2: a manager must approve.'),
    status: described(z.literal(2), '2: waiting.'),
    timestamp,
  }),
  /** The group was renamed: IM refresh, then ST:GrpNtf `Rename`. */
  GroupRenamed: z.object({
    groupId,
    operatorId: described(id, 'Who renamed the group.'),
    name: described(z.string(), 'The new name (HTML-escaped, as stored).'),
    timestamp,
  }),
  /** Users became members (add, join, an agreed invitation): IM join, then ST:GrpNtf `Add`. */
  MembersJoined: z.object({
    groupId,
    operatorId: described(id, 'Who added them (themself for a join; the original inviter for an agreed invitation).'),
    memberIds: described(ids, 'The new members.'),
    timestamp,
  }),
  /** Members were kicked: ST:GrpNtf `Kicked` (they still receive it), then IM quit. */
  MembersKicked: z.object({
    groupId,
    operatorId: described(id, 'The owner or manager who kicked them.'),
    memberIds: described(ids, 'The kicked members.'),
    timestamp,
  }),
  /** A member quit: ST:GrpNtf `Quit` (with the new owner when the owner quit), then IM quit. */
  MemberQuit: z.object({
    groupId,
    userId: described(id, 'Who quit.'),
    newOwnerId: described(z.nullable(id), 'The new owner when the owner quit and others remain, else null.'),
    timestamp,
  }),
  /** The group was dismissed (by its owner, or by its last member quitting): ST:GrpNtf `Dismiss`, IM dismiss. */
  GroupDismissed: z.object({
    groupId,
    operatorId: described(id, 'Who dismissed it.'),
    /** Owner and managers at dismissal: the mute whitelist to roll back. */
    whitelistIds: described(z.array(id), 'The owner and managers at dismissal (their mute-whitelist entries are rolled back).'),
    timestamp,
  }),
  /** Ownership moved: ST:GrpNtf `Transfer`; the mute whitelist follows while muted. */
  OwnerTransferred: z.object({
    groupId,
    operatorId: described(id, 'The previous owner (now a plain member).'),
    newOwnerId: described(id, 'The new owner.'),
    timestamp,
  }),
  /** Members became managers: ST:GrpNtf `SetManager`; the mute whitelist follows while muted. */
  ManagersSet: z.object({ groupId, operatorId: described(id, 'The owner.'), memberIds: described(ids, 'The new managers.'), timestamp }),
  /** Managers became plain members: ST:GrpNtf `RemoveManager`; the mute whitelist follows while muted. */
  ManagersRemoved: z.object({ groupId, operatorId: described(id, 'The owner.'), memberIds: described(ids, 'The former managers.'), timestamp }),
  /** An invitation or join request was answered: ST:GrpApply confirmation to the one who answered. */
  InvitationAnswered: z.object({
    groupId,
    operatorId: described(id, 'Who answered: the invitee (type 1) or an owner/manager (type 2).'),
    receiverId: described(id, 'The user the notice is about.'),
    noticeType: z.union([z.literal(1), z.literal(2)]),
    status: described(z.union([z.literal(0), z.literal(1)]), '1 agreed, 0 ignored.'),
    timestamp,
  }),
  /** Waiting notices of a dismissed group expired: ST:GrpApply type 0 status 3 to whoever held one. */
  NoticesExpired: z.object({
    groupId,
    operatorId: described(id, 'Who dismissed the group.'),
    recipientIds: described(ids, 'The viewers of the expired notices.'),
    timestamp,
  }),
  /** A bulletin was published: the `RC:TxtMsg` "@所有人 …" mention-all message from the operator (none for an empty one). */
  BulletinPublished: z.object({
    groupId,
    operatorId: described(id, 'The owner or manager who published it.'),
    bulletinId: described(z.number().check(z.int(), z.positive()), 'The per-group bulletin counter.'),
    content: described(z.string(), 'The bulletin (HTML-escaped, as stored); may be empty.'),
    timestamp,
  }),
  /** The group portrait changed: IM refresh. */
  GroupPortraitChanged: z.object({ groupId, operatorId: described(id, 'The owner.'), portraitUri: z.string(), timestamp }),
  /** Mute-all switched: ban (then the whitelist) or its rollback. */
  GroupMuteChanged: z.object({
    groupId,
    operatorId: described(id, 'The owner or manager who switched it.'),
    muteStatus: described(z.union([z.literal(0), z.literal(1)]), '1 muted, 0 not.'),
    whitelistIds: described(z.array(id), 'Whose mute-whitelist entry the change concerns: owner, managers, the members named now and those named before.'),
    timestamp,
  }),
  /** Regular clearing switched or changed: ST:ConNtf open/closeRegularClear from the operator. */
  RegularClearChanged: z.object({
    groupId,
    operatorId: described(id, 'The owner.'),
    clearStatus: described(z.union([z.literal(0), z.literal(3), z.literal(7), z.literal(36)]), '0 off; 3 or 7 days; 36 hours.'),
    timestamp,
  }),
  /** Member protection switched: ST:GrpNtf open/closeMemberProtection from the operator. */
  MemberProtectionChanged: z.object({
    groupId,
    operatorId: described(id, 'The owner or manager who switched it.'),
    memberProtection: z.union([z.literal(0), z.literal(1)]),
    timestamp,
  }),
  /**
   * A regular-clear run finished: every member's server history of the group before `clearTime`
   * was cleaned; ST:MsgClear `clearGroupMsg` from the owner tells the clients to clear theirs.
   */
  GroupMessagesCleared: z.object({
    groupId,
    operatorId: described(id, 'The owner: ST:MsgClear comes from them.'),
    clearStatus: described(z.union([z.literal(3), z.literal(7), z.literal(36)]), 'The retention: 3 or 7 days; 36 hours.'),
    clearTime: described(z.number().check(z.int(), z.nonnegative()), 'The cutoff (epoch ms): messages before it were cleared.'),
    runId: described(id, 'The regular-clear run.'),
    members: described(z.number().check(z.int(), z.nonnegative()), 'How many members had their history cleaned (one RongCloud call each).'),
    timestamp,
  }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventDetail<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;
export type DomainEvent = { [T in EventType]: { type: T; detail: EventDetail<T> } }[EventType];

export const eventTypes = Object.keys(eventSchemas) as EventType[];

export const isEventType = (name: string): name is EventType => Object.hasOwn(eventSchemas, name);

/**
 * What an event carries on the bus: its detail plus `eventId` (the outbox item's id, stable across
 * redeliveries: consumers use it for idempotency).
 */
export const busDetailSchema = <T extends EventType>(type: T) =>
  z.extend(eventSchemas[type], { eventId: described(z.string().check(z.minLength(1)), 'Unique per event and stable across redeliveries: deduplicate on it.') });
export type BusDetail<T extends EventType> = EventDetail<T> & { eventId: string };

/**
 * The stream key of an event: events with the same key share an outbox partition (and so a stream
 * shard), which keeps their relative order through the relay. Every event of a group has its group.
 */
export const streamKeyOf = (event: DomainEvent): string => event.detail.groupId;

/** Builds an event, validating its detail against its schema (a bad event is a bug, caught here). */
export const domainEvent = <T extends EventType>(type: T, detail: EventDetail<T>): DomainEvent =>
  ({ type, detail: z.parse(eventSchemas[type], detail) }) as DomainEvent;

/**
 * Events this service consumes from others. `UserProfileUpdated` comes from the upstream user
 * service (source `sealtalk.user`): the fields it carries replace the user's profile fields.
 */
export const USER_EVENT_SOURCE = 'sealtalk.user';

const profileText = z.optional(z.string().check(z.maxLength(1024)));

export const consumedEventSchemas = {
  UserProfileUpdated: z.object({
    userId: z.string().check(z.minLength(1), z.maxLength(64)),
    nickname: profileText,
    portraitUri: profileText,
    phone: profileText,
    gender: profileText,
    stAccount: profileText,
    groupVerify: z.optional(z.union([z.literal(0), z.literal(1)])),
  }),
} as const;

export type UserProfileUpdated = z.infer<typeof consumedEventSchemas.UserProfileUpdated>;
