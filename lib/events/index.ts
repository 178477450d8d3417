import * as z from 'zod';

/**
 * Domain events: one zod schema per change, imported by the publisher (the outbox in
 * lib/store/commit.ts), the CDK rule patterns and the notifier. An event name is typed once, here.
 */

export const EVENT_SOURCE = 'sealtalk.group';

const id = z.string().min(1);
const groupId = id.describe('The group (a SealTalk group id).');
const timestamp = z.number().int().nonnegative().describe('When the change was committed (epoch ms).');
const ids = z.array(id).min(1);

export const eventSchemas = {
  /** A group was created: the IM group is created with `memberIds`, then ST:GrpNtf `Create`. */
  GroupCreated: z.object({
    groupId,
    operatorId: id.describe('Who created the group: its owner.'),
    name: z.string().describe('The group name (HTML-escaped, as stored).'),
    portraitUri: z.string(),
    /** Members who joined at creation (the owner included), in the order the response lists them. */
    memberIds: z.array(id).min(1).describe('Members who joined at creation, the owner included (invitees are not members yet).'),
    timestamp,
  }),
  /** Invitations were issued: ST:GrpApply to `recipientIds` (type 1: to the invitees; 2: to managers). */
  GroupInvited: z.object({
    groupId,
    requesterId: id.describe('Who invited (or asked to join).'),
    receiverIds: z.array(id).min(1).describe('The users the invitations are about.'),
    recipientIds: z.array(id).min(1).describe('Who must answer: the invitees (type 1) or the owner and managers (type 2).'),
    noticeType: z.union([z.literal(1), z.literal(2)]).describe('1: the invitee must consent; 2: a manager must approve.'),
    status: z.literal(2).describe('2: waiting.'),
    timestamp,
  }),
  /** The group was renamed: IM refresh, then ST:GrpNtf `Rename`. */
  GroupRenamed: z.object({
    groupId,
    operatorId: id.describe('Who renamed the group.'),
    name: z.string().describe('The new name (HTML-escaped, as stored).'),
    timestamp,
  }),
  /** Users became members (add, join, an agreed invitation): IM join, then ST:GrpNtf `Add`. */
  MembersJoined: z.object({
    groupId,
    operatorId: id.describe('Who added them (themself for a join; the original inviter for an agreed invitation).'),
    memberIds: ids.describe('The new members.'),
    timestamp,
  }),
  /** Members were kicked: ST:GrpNtf `Kicked` (they still receive it), then IM quit. */
  MembersKicked: z.object({
    groupId,
    operatorId: id.describe('The owner or manager who kicked them.'),
    memberIds: ids.describe('The kicked members.'),
    timestamp,
  }),
  /** A member quit: ST:GrpNtf `Quit` (with the new owner when the owner quit), then IM quit. */
  MemberQuit: z.object({
    groupId,
    userId: id.describe('Who quit.'),
    newOwnerId: id.nullable().describe('The new owner when the owner quit and others remain, else null.'),
    timestamp,
  }),
  /** The group was dismissed (by its owner, or by its last member quitting): ST:GrpNtf `Dismiss`, IM dismiss. */
  GroupDismissed: z.object({
    groupId,
    operatorId: id.describe('Who dismissed it.'),
    /** Owner and managers at dismissal: the mute whitelist to roll back. */
    whitelistIds: z.array(id).describe('The owner and managers at dismissal (their mute-whitelist entries are rolled back).'),
    timestamp,
  }),
  /** Ownership moved: ST:GrpNtf `Transfer`; the mute whitelist follows while muted. */
  OwnerTransferred: z.object({
    groupId,
    operatorId: id.describe('The previous owner (now a plain member).'),
    newOwnerId: id.describe('The new owner.'),
    timestamp,
  }),
  /** Members became managers: ST:GrpNtf `SetManager`; the mute whitelist follows while muted. */
  ManagersSet: z.object({ groupId, operatorId: id.describe('The owner.'), memberIds: ids.describe('The new managers.'), timestamp }),
  /** Managers became plain members: ST:GrpNtf `RemoveManager`; the mute whitelist follows while muted. */
  ManagersRemoved: z.object({ groupId, operatorId: id.describe('The owner.'), memberIds: ids.describe('The former managers.'), timestamp }),
  /** An invitation or join request was answered: ST:GrpApply confirmation to the one who answered. */
  InvitationAnswered: z.object({
    groupId,
    operatorId: id.describe('Who answered: the invitee (type 1) or an owner/manager (type 2).'),
    receiverId: id.describe('The user the notice is about.'),
    noticeType: z.union([z.literal(1), z.literal(2)]),
    status: z.union([z.literal(0), z.literal(1)]).describe('1 agreed, 0 ignored.'),
    timestamp,
  }),
  /** Waiting notices of a dismissed group expired: ST:GrpApply type 0 status 3 to whoever held one. */
  NoticesExpired: z.object({
    groupId,
    operatorId: id.describe('Who dismissed the group.'),
    recipientIds: ids.describe('The viewers of the expired notices.'),
    timestamp,
  }),
  /** A bulletin was published: the `RC:TxtMsg` "@所有人 …" mention-all message from the operator (none for an empty one). */
  BulletinPublished: z.object({
    groupId,
    operatorId: id.describe('The owner or manager who published it.'),
    bulletinId: z.number().int().positive().describe('The per-group bulletin counter.'),
    content: z.string().describe('The bulletin (HTML-escaped, as stored); may be empty.'),
    timestamp,
  }),
  /** The group portrait changed: IM refresh. */
  GroupPortraitChanged: z.object({ groupId, operatorId: id.describe('The owner.'), portraitUri: z.string(), timestamp }),
  /** Mute-all switched: ban (then the whitelist) or its rollback. */
  GroupMuteChanged: z.object({
    groupId,
    operatorId: id.describe('The owner or manager who switched it.'),
    muteStatus: z.union([z.literal(0), z.literal(1)]).describe('1 muted, 0 not.'),
    whitelistIds: z.array(id).describe('Whose mute-whitelist entry the change concerns: owner, managers, the members named now and those named before.'),
    timestamp,
  }),
  /** Regular clearing switched or changed: ST:ConNtf open/closeRegularClear from the operator. */
  RegularClearChanged: z.object({
    groupId,
    operatorId: id.describe('The owner.'),
    clearStatus: z.union([z.literal(0), z.literal(3), z.literal(7), z.literal(36)]).describe('0 off; 3 or 7 days; 36 hours.'),
    timestamp,
  }),
  /** Member protection switched: ST:GrpNtf open/closeMemberProtection from the operator. */
  MemberProtectionChanged: z.object({
    groupId,
    operatorId: id.describe('The owner or manager who switched it.'),
    memberProtection: z.union([z.literal(0), z.literal(1)]),
    timestamp,
  }),
  /**
   * A regular-clear run finished: every member's server history of the group before `clearTime`
   * was cleaned; ST:MsgClear `clearGroupMsg` from the owner tells the clients to clear theirs.
   */
  GroupMessagesCleared: z.object({
    groupId,
    operatorId: id.describe('The owner: ST:MsgClear comes from them.'),
    clearStatus: z.union([z.literal(3), z.literal(7), z.literal(36)]).describe('The retention: 3 or 7 days; 36 hours.'),
    clearTime: z.number().int().nonnegative().describe('The cutoff (epoch ms): messages before it were cleared.'),
    runId: id.describe('The regular-clear run.'),
    members: z.number().int().nonnegative().describe('How many members had their history cleaned (one RongCloud call each).'),
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
  eventSchemas[type].extend({ eventId: z.string().min(1).describe('Unique per event and stable across redeliveries: deduplicate on it.') });
export type BusDetail<T extends EventType> = EventDetail<T> & { eventId: string };

/**
 * The stream key of an event: events with the same key share an outbox partition (and so a stream
 * shard), which keeps their relative order through the relay. Every event of a group has its group.
 */
export const streamKeyOf = (event: DomainEvent): string => event.detail.groupId;

/** Builds an event, validating its detail against its schema (a bad event is a bug, caught here). */
export const domainEvent = <T extends EventType>(type: T, detail: EventDetail<T>): DomainEvent =>
  ({ type, detail: eventSchemas[type].parse(detail) }) as DomainEvent;

/**
 * Events this service consumes from others. `UserProfileUpdated` comes from the upstream user
 * service (source `sealtalk.user`): the fields it carries replace the user's profile fields.
 */
export const USER_EVENT_SOURCE = 'sealtalk.user';

const profileText = z.string().max(1024).optional();

export const consumedEventSchemas = {
  UserProfileUpdated: z.object({
    userId: z.string().min(1).max(64),
    nickname: profileText,
    portraitUri: profileText,
    phone: profileText,
    gender: profileText,
    stAccount: profileText,
    groupVerify: z.union([z.literal(0), z.literal(1)]).optional(),
  }),
} as const;

export type UserProfileUpdated = z.infer<typeof consumedEventSchemas.UserProfileUpdated>;
