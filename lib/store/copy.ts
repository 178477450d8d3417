import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CopyStore } from '../domain/copy.ts';
import type { MembershipWrites } from './membership.ts';

/**
 * copy_group needs no storage of its own: it reads through the group, member and user
 * repositories, and the source's `copiedTime` is written by `GroupRepository.create(..., copyOf)`
 * (lib/store/groups.ts) in the transaction that makes the copy visible.
 */
export const createCopyStore = (_client: DynamoDBDocumentClient, _tableName: string, _m: MembershipWrites): CopyStore => ({});
