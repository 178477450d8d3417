import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import '../zod.ts';
import type { JanitorStore, RepairEntry } from '../domain/janitor.ts';
import { dueOnSchedule, getParsed, queryPrefix } from './batch.ts';
import { MAX_TRANSACTION_ITEMS, type Commit, type Write } from './commit.ts';
import { parseGroup, parseNotice } from './items.ts';
import { writeIf } from './conditional.ts';
import { keys } from './keys.ts';

/**
 * The janitor's storage (lib/domain/janitor.ts): the due entries of the repair schedule (GSI2
 * `REPAIR#<shard>`, one query per shard, never a scan), and the conditional writes of the undo of
 * an abandoned creation. The members of an abandoned creation are released by the role store's
 * `releaseMembers` (the same conditional, exactly-once release as after a dismissal).
 */

/** A schedule sort key: `<due ms, 15 digits>#<groupId>`. */
const scheduleKey = z.string().check(z.regex(/^\d{15}#.+$/));
const entryItem = z.object({ gsi2sk: scheduleKey });
const entryOfItem = z.object({ gsi2pk: z.optional(z.string()), gsi2sk: z.optional(scheduleKey) });

const dueAtOf = keys.dueAtOfSchedule;


export const createJanitorStore = (client: DynamoDBDocumentClient, tableName: string, commit: Commit): JanitorStore => ({
  async due(now) {
    const { items, errors } = await dueOnSchedule(client, tableName, 'repair', now, 'gsi2sk');
    const entries = items.map((raw): RepairEntry => {
      const { gsi2sk } = z.parse(entryItem, raw);
      return { groupId: keys.groupOfSchedule(gsi2sk), dueAt: dueAtOf(gsi2sk) };
    });
    return { entries, errors };
  },

  read: (groupId) =>
    getParsed(client, tableName, keys.group(groupId), (item) => {
      const group = parseGroup(item);
      const { gsi2pk, gsi2sk } = z.parse(entryOfItem, item);
      const repair = gsi2pk !== undefined && gsi2sk !== undefined && gsi2pk === keys.repairSchedule(groupId, 0).gsi2pk;
      return { group, repairDueAt: repair ? dueAtOf(gsi2sk) : null };
    }),

  async abandon(groupId, now) {
    return writeIf(() =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.group(groupId),
          UpdateExpression: 'SET #status = :abandoned, updatedAt = :now',
          ConditionExpression: '#status = :creating',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':abandoned': 'abandoned', ':creating': 'creating', ':now': now },
        }),
      ),
    );
  },

  async removeNotices(groupId) {
    const notices = (await queryPrefix(client, tableName, keys.noticesOf(groupId))).map(parseNotice);
    // Each notice with its pointers in one transaction (a creation writes them together too), so an
    // interrupted run leaves no pointer whose notice is gone: the next run finds what is left.
    const entries = notices.map((n): Write[] => [
      ...n.viewerIds.map((viewerId): Write => ({ Delete: { TableName: tableName, Key: keys.inbox(viewerId, groupId, n.type, n.receiverId) } })),
      { Delete: { TableName: tableName, Key: keys.notice(groupId, n.type, n.receiverId) } },
    ]);
    const transactions: Write[][] = [];
    for (const writes of entries) {
      const last = transactions.at(-1);
      if (last && last.length + writes.length <= MAX_TRANSACTION_ITEMS) last.push(...writes);
      else transactions.push([...writes]);
    }
    for (const writes of transactions) await commit({ writes });
    return { notices: notices.length, inboxes: notices.reduce((n, notice) => n + notice.viewerIds.length, 0) };
  },

  async removeAbandoned(groupId) {
    return writeIf(() =>
      client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: keys.group(groupId),
          ConditionExpression: '#status = :abandoned',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':abandoned': 'abandoned' },
        }),
      ),
    );
  },

  async dropEntry(groupId, dueAt) {
    const entry = keys.repairSchedule(groupId, dueAt);
    return writeIf(() =>
      client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.group(groupId),
          UpdateExpression: 'REMOVE gsi2pk, gsi2sk',
          ConditionExpression: 'gsi2pk = :pk AND gsi2sk = :sk',
          ExpressionAttributeValues: { ':pk': entry.gsi2pk, ':sk': entry.gsi2sk },
        }),
      ),
    );
  },
});
