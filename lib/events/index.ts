import * as z from 'zod/mini';
import '../zod.ts';

/**
 * Domain events: one zod schema per change, imported by the publisher (the outbox in
 * lib/store/commit.ts), the CDK rule patterns and the notifier. An event name is typed once, here.
 * What each field means, as the published JSON Schemas say it: lib/events/descriptions.ts.
 */

export const EVENT_SOURCE = 'sealtalk.group';

const id = z.string().check(z.minLength(1));
const groupId = id;
const timestamp = z.number().check(z.int(), z.nonnegative());
const ids = z.array(id).check(z.minLength(1));

/**
 * One maker per event: a schema is made when first used (`eventSchema`), as a function validates one
 * or two of them and making all of them at every cold start would cost more than the validation.
 */
const eventSchemaMakers = {
  /** A group was created: the IM group is created with `memberIds`, then ST:GrpNtf `Create`. */
  GroupCreated: () => z.object({
    groupId,
    operatorId: id,
    name: z.string(),
    portraitUri: z.string(),
    /** Members who joined at creation (the owner included), in the order the response lists them. */
    memberIds: z.array(id).check(z.minLength(1)),
    timestamp,
  }),
  /** Invitations were issued: ST:GrpApply to `recipientIds` (type 1: to the invitees; 2: to managers). */
  GroupInvited: () => z.object({
    groupId,
    requesterId: id,
    receiverIds: z.array(id).check(z.minLength(1)),
    recipientIds: z.array(id).check(z.minLength(1)),
    noticeType: z.union([z.literal(1), z.literal(2)]),
    status: z.literal(2),
    timestamp,
  }),
  /** The group was renamed: IM refresh, then ST:GrpNtf `Rename`. */
  GroupRenamed: () => z.object({
    groupId,
    operatorId: id,
    name: z.string(),
    timestamp,
  }),
  /** Users became members (add, join, an agreed invitation): IM join, then ST:GrpNtf `Add`. */
  MembersJoined: () => z.object({
    groupId,
    operatorId: id,
    memberIds: ids,
    timestamp,
  }),
  /** Members were kicked: ST:GrpNtf `Kicked` (they still receive it), then IM quit. */
  MembersKicked: () => z.object({
    groupId,
    operatorId: id,
    memberIds: ids,
    timestamp,
  }),
  /** A member quit: ST:GrpNtf `Quit` (with the new owner when the owner quit), then IM quit. */
  MemberQuit: () => z.object({
    groupId,
    userId: id,
    newOwnerId: z.nullable(id),
    timestamp,
  }),
  /** The group was dismissed (by its owner, or by its last member quitting): ST:GrpNtf `Dismiss`, IM dismiss. */
  GroupDismissed: () => z.object({
    groupId,
    operatorId: id,
    /** Owner and managers at dismissal: the mute whitelist to roll back. */
    whitelistIds: z.array(id),
    timestamp,
  }),
  /** Ownership moved: ST:GrpNtf `Transfer`; the mute whitelist follows while muted. */
  OwnerTransferred: () => z.object({
    groupId,
    operatorId: id,
    newOwnerId: id,
    timestamp,
  }),
  /** Members became managers: ST:GrpNtf `SetManager`; the mute whitelist follows while muted. */
  ManagersSet: () => z.object({ groupId, operatorId: id, memberIds: ids, timestamp }),
  /** Managers became plain members: ST:GrpNtf `RemoveManager`; the mute whitelist follows while muted. */
  ManagersRemoved: () => z.object({ groupId, operatorId: id, memberIds: ids, timestamp }),
  /** An invitation or join request was answered: ST:GrpApply confirmation to the one who answered. */
  InvitationAnswered: () => z.object({
    groupId,
    operatorId: id,
    receiverId: id,
    noticeType: z.union([z.literal(1), z.literal(2)]),
    status: z.union([z.literal(0), z.literal(1)]),
    timestamp,
  }),
  /** Waiting notices of a dismissed group expired: ST:GrpApply type 0 status 3 to whoever held one. */
  NoticesExpired: () => z.object({
    groupId,
    operatorId: id,
    recipientIds: ids,
    timestamp,
  }),
  /** A bulletin was published: the `RC:TxtMsg` "@所有人 …" mention-all message from the operator (none for an empty one). */
  BulletinPublished: () => z.object({
    groupId,
    operatorId: id,
    bulletinId: z.number().check(z.int(), z.positive()),
    content: z.string(),
    timestamp,
  }),
  /** The group portrait changed: IM refresh. */
  GroupPortraitChanged: () => z.object({ groupId, operatorId: id, portraitUri: z.string(), timestamp }),
  /** Mute-all switched: ban (then the whitelist) or its rollback. */
  GroupMuteChanged: () => z.object({
    groupId,
    operatorId: id,
    muteStatus: z.union([z.literal(0), z.literal(1)]),
    whitelistIds: z.array(id),
    timestamp,
  }),
  /** Regular clearing switched or changed: ST:ConNtf open/closeRegularClear from the operator. */
  RegularClearChanged: () => z.object({
    groupId,
    operatorId: id,
    clearStatus: z.union([z.literal(0), z.literal(3), z.literal(7), z.literal(36)]),
    timestamp,
  }),
  /** Member protection switched: ST:GrpNtf open/closeMemberProtection from the operator. */
  MemberProtectionChanged: () => z.object({
    groupId,
    operatorId: id,
    memberProtection: z.union([z.literal(0), z.literal(1)]),
    timestamp,
  }),
  /**
   * A regular-clear run finished: every member's server history of the group before `clearTime`
   * was cleaned; ST:MsgClear `clearGroupMsg` from the owner tells the clients to clear theirs.
   */
  GroupMessagesCleared: () => z.object({
    groupId,
    operatorId: id,
    clearStatus: z.union([z.literal(3), z.literal(7), z.literal(36)]),
    clearTime: z.number().check(z.int(), z.nonnegative()),
    runId: id,
    members: z.number().check(z.int(), z.nonnegative()),
    timestamp,
  }),
} as const;

export type EventType = keyof typeof eventSchemaMakers;
type EventSchemas = { [T in EventType]: ReturnType<(typeof eventSchemaMakers)[T]> };
export type EventDetail<T extends EventType> = z.infer<EventSchemas[T]>;
export type DomainEvent = { [T in EventType]: { type: T; detail: EventDetail<T> } }[EventType];

export const eventTypes = Object.keys(eventSchemaMakers) as EventType[];

export const isEventType = (name: string): name is EventType => Object.hasOwn(eventSchemaMakers, name);

const made: Partial<EventSchemas> = {};

/** The schema of an event's detail (made on first use, then kept). */
export const eventSchema = <T extends EventType>(type: T): EventSchemas[T] =>
  (made[type] ??= eventSchemaMakers[type]() as EventSchemas[T]) as EventSchemas[T];

export type BusDetail<T extends EventType> = EventDetail<T> & { eventId: string };

const madeBus: Partial<Record<EventType, z.core.$ZodType>> = {};

/**
 * What an event carries on the bus: its detail plus `eventId` (the outbox item's id, stable across
 * redeliveries: consumers use it for idempotency). Made on first use, then kept.
 */
export const busDetailSchema = <T extends EventType>(type: T): z.ZodMiniType<BusDetail<T>> =>
  (madeBus[type] ??= z.extend(eventSchema(type), { eventId: z.string().check(z.minLength(1)) })) as z.ZodMiniType<BusDetail<T>>;

/**
 * The stream key of an event: events with the same key share an outbox partition (and so a stream
 * shard), which keeps their relative order through the relay. Every event of a group has its group.
 */
export const streamKeyOf = (event: DomainEvent): string => event.detail.groupId;

/** Builds an event, validating its detail against its schema (a bad event is a bug, caught here). */
export const domainEvent = <T extends EventType>(type: T, detail: EventDetail<T>): DomainEvent =>
  ({ type, detail: z.parse(eventSchema(type), detail) }) as DomainEvent;

/**
 * Events this service consumes from others. `UserProfileUpdated` comes from the upstream user
 * service (source `sealtalk.user`): the fields it carries replace the user's profile fields.
 */
export const USER_EVENT_SOURCE = 'sealtalk.user';

export type { UserProfileUpdated } from './consumed.ts';
