import type { GroupRepository, MemberRepository, UserRepository } from '../domain/ports.ts';
import { busDetailSchema, type BusDetail, type EventType } from '../events/index.ts';
import type { DeliveryLedger } from '../store/deliveries.ts';
import type { ImMirrorStore } from '../store/im-mirror.ts';
import { groupApply, groupNotification } from './messages.ts';
import { ensureGroup, type SyncDeps } from './sync.ts';

/**
 * What the IM system must hear about each domain event: the RongCloud calls and the IM messages
 * SealTalk clients render, in the reference's order (create the IM group, then announce it; tell
 * leavers before they leave). Every event type has a plan, so a new event cannot be forgotten.
 *
 * Each plan is a sequence of named steps. A step runs once per event: the ledger records it as done
 * right after its call succeeded, and a redelivered event skips it. Membership steps converge IM to
 * the table (lib/im/sync.ts) instead of replaying the event, so order of delivery does not matter.
 */

export const NOTIFIER = 'notifier';

export interface NotifierDeps extends SyncDeps {
  groups: Pick<GroupRepository, 'get'>;
  members: Pick<MemberRepository, 'list' | 'currentAmong'>;
  users: UserRepository;
  mirror: ImMirrorStore;
  ledger: DeliveryLedger;
  /** How long a delivery holds its lease (longer than one invocation may run). */
  leaseMs: number;
}

type Step = (name: string, run: () => Promise<unknown>) => Promise<void>;
type Plan<T extends EventType> = (detail: BusDetail<T>, step: Step, deps: NotifierDeps) => Promise<void>;

const nicknameOf = async (deps: NotifierDeps, userId: string): Promise<string> =>
  (await deps.users.getProfiles([userId])).get(userId)?.nickname ?? '';

const plans: { [T in EventType]: Plan<T> } = {
  GroupCreated: async (e, step, deps) => {
    await step('im', () => ensureGroup(deps, e.groupId));
    const operatorNickname = await nicknameOf(deps, e.operatorId);
    await step('notify', () =>
      deps.im.publishGroupMessage(
        groupNotification(e.groupId, e.operatorId, 'Create', { operatorNickname, targetGroupName: e.name, timestamp: e.timestamp }),
      ),
    );
  },

  GroupInvited: async (e, step, deps) => {
    const [operatorNickname, group] = await Promise.all([nicknameOf(deps, e.requesterId), deps.groups.get(e.groupId)]);
    await step('apply', () =>
      deps.im.publishPrivateMessage(
        groupApply(e.requesterId, e.recipientIds, {
          operatorNickname,
          targetGroupId: e.groupId,
          targetGroupName: group && group.status === 'active' ? group.name : '',
          status: e.status,
          type: e.noticeType,
          timestamp: e.timestamp,
        }),
      ),
    );
  },

  GroupRenamed: async (e, step, deps) => {
    // Refreshes the IM name to the table's current one (or creates the IM group if its creation
    // has not been processed yet).
    await step('im', () => ensureGroup(deps, e.groupId));
    const operatorNickname = await nicknameOf(deps, e.operatorId);
    await step('notify', () =>
      deps.im.publishGroupMessage(
        groupNotification(e.groupId, e.operatorId, 'Rename', { operatorNickname, targetGroupName: e.name, timestamp: e.timestamp }),
      ),
    );
  },
};

/** An event the notifier cannot handle, now or ever: it goes to the dead-letter queue. */
export class UnprocessableEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnprocessableEvent';
  }
}

const isEventType = (name: string): name is EventType => Object.hasOwn(plans, name);

/** Performs the IM side of one bus event (`detail-type`, `detail`), at most once per step. */
export const notify = async (deps: NotifierDeps, detailType: string, rawDetail: unknown): Promise<'done' | 'duplicate'> => {
  if (!isEventType(detailType)) throw new UnprocessableEvent(`unknown event type ${detailType}`);
  const parsed = busDetailSchema(detailType).safeParse(rawDetail);
  if (!parsed.success) throw new UnprocessableEvent(`invalid ${detailType}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const detail = parsed.data;

  const delivery = await deps.ledger.begin(detail.eventId, NOTIFIER, deps.leaseMs);
  if (delivery.done) return 'duplicate';
  const step: Step = async (name, run) => {
    if (delivery.hasDone(name)) return;
    await run();
    await delivery.markDone(name);
  };
  try {
    await (plans[detailType] as Plan<EventType>)(detail as BusDetail<EventType>, step, deps);
  } catch (error) {
    await delivery.release().catch((releaseError: unknown) => deps.log.warn('lease not released', { error: releaseError }));
    throw error;
  }
  await delivery.finish();
  return 'done';
};
