import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CopyStore } from '../domain/copy.ts';
import type { MembershipWrites } from './membership.ts';

/** copy_group. */
export const createCopyStore = (_client: DynamoDBDocumentClient, _tableName: string, _m: MembershipWrites): CopyStore => ({});
