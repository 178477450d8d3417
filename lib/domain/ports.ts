import type { DomainEvent } from '../events/index.ts';
import type { DepartureStore } from './departures.ts';
import type { InvitationStore } from './invitations.ts';
import type { Group, Member, Notice, Profile } from './model.ts';
import type { RoleStore } from './roles.ts';
import type { SettingsStore } from './settings.ts';
import type { ControlsStore } from './controls.ts';
import type { JanitorStore } from './janitor.ts';

export type { Notice } from './model.ts';

/**
 * What the domain needs from storage. `lib/store` implements these over DynamoDB; every invariant
 * (exact counts, limits, one owner) is enforced there by conditions and transactions, and the
 * repositories turn failed conditions into domain errors.
 */

export interface NewGroup {
  group: Group;
  /** The owner first, then the other members. */
  members: Member[];
  notices: Notice[];
  events: DomainEvent[];
}

/** Reading group items: all most modules need of the group repository. */
export interface GroupReads {
  /** The group, or null when no such group exists (a dismissed group is returned). */
  get(groupId: string): Promise<Group | null>;
  /** Groups by id; missing ids are absent from the map. */
  getMany(groupIds: readonly string[]): Promise<Map<string, Group>>;
}

export interface GroupRepository extends GroupReads {
  /**
   * Writes a new group with its members, notices and events; adds 1 to every member's group count
   * within `maxUserGroups`. Throws `Rejected(1000)` naming the user whose limit would be passed.
   * With `copyOf` (copy_group), the transaction that makes the group visible also sets the source's
   * `copiedTime` to the new group's `createdAt`, guarded by the source being active with the
   * `copiedTime` read and `memberId` still its member; otherwise nothing stays written and it throws
   * `CopyConflict` (lib/domain/copy.ts).
   */
  create(
    input: NewGroup,
    limits: { maxUserGroups: number },
    copyOf?: { sourceId: string; copiedTime: number; memberId: string },
  ): Promise<void>;
  /** Renames an active group owned by `ownerId`. NotFound / InvalidInput("...not creator") otherwise. */
  rename(input: { groupId: string; ownerId: string; name: string; now: number; event: DomainEvent }): Promise<void>;
}

export interface MemberPage {
  members: Member[];
  /** The user id to continue after; absent on the last page. */
  after?: string;
}

export interface MemberRepository {
  /** Current members, ascending user id. */
  list(groupId: string): Promise<Member[]>;
  /** At most `limit` members after user id `after` (ascending user id). */
  page(groupId: string, limit: number, after?: string): Promise<MemberPage>;
  /** One membership, or null (strongly consistent). */
  get(groupId: string, userId: string): Promise<Member | null>;
  /** Which of `userIds` are members of the group right now (strongly consistent). */
  currentAmong(groupId: string, userIds: readonly string[]): Promise<Set<string>>;
  /** A user's memberships (any group status; callers filter). */
  ofUser(userId: string): Promise<Member[]>;
}

export interface UserRepository {
  /** Profiles by id; users never seen get `unknownProfile`. */
  getProfiles(userIds: readonly string[]): Promise<Map<string, Profile>>;
}

export interface Limits {
  /** maxMemberCount of new groups. */
  maxGroupMembers: number;
  /** Groups one user may be in. */
  maxUserGroups: number;
  /** How long a pending notice waits before it lapses (seconds). */
  noticeTtlS: number;
  /** copy_group: a source younger than this cannot be copied (ms). */
  copyProtectionMs: number;
  /** copy_group: a source copied less than this ago cannot be copied again (ms). */
  copyIntervalMs: number;
}

/**
 * What each domain module needs (a Lambda's root wires only these: lib/app/<module>.ts). The full
 * `Deps` (lib/app.ts) satisfies every one of them.
 */
export type GroupsDeps = Pick<Deps, 'groups' | 'members' | 'users' | 'limits' | 'now' | 'newGroupId'>;
/** `Pick<Deps, K>` with only the reads of the group repository (its creation code stays out of the bundle). */
type ReadingGroups<K extends keyof Deps> = Pick<Deps, K> & { groups: GroupReads };
export type InvitationsDeps = ReadingGroups<'users' | 'invitations' | 'limits' | 'now'>;
export type DeparturesDeps = ReadingGroups<'members' | 'users' | 'departures' | 'now'>;
export type RolesDeps = Pick<Deps, 'roles' | 'now'>;
export type SettingsDeps = ReadingGroups<'settings' | 'now'>;
export type ControlsDeps = ReadingGroups<'controls' | 'now'>;
export type JanitorDeps = Pick<Deps, 'janitor' | 'roles' | 'now'>;

export interface Deps {
  groups: GroupRepository;
  members: MemberRepository;
  users: UserRepository;
  invitations: InvitationStore;
  departures: DepartureStore;
  roles: RoleStore;
  settings: SettingsStore;
  controls: ControlsStore;
  janitor: JanitorStore;
  limits: Limits;
  now: () => number;
  newGroupId: () => string;
}
