import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RoleStore } from '../domain/roles.ts';
import type { MembershipWrites } from './membership.ts';

/** Roles and the group's end: transfer, set/remove managers, dismiss and its cleanup. */
export const createRoleStore = (_client: DynamoDBDocumentClient, _tableName: string, _m: MembershipWrites): RoleStore => ({});
