import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InvitationStore } from '../domain/invitations.ts';
import type { MembershipWrites } from './membership.ts';

/** Invitations and admissions: add, join, agree, notice_info, clear_notice. */
export const createInvitationStore = (_client: DynamoDBDocumentClient, _tableName: string, _m: MembershipWrites): InvitationStore => ({});
