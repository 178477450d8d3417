import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SettingsStore } from '../domain/settings.ts';
import type { MembershipWrites } from './membership.ts';

/** Settings: set_bulletin, get_bulletin, set_portrait_uri, set_display_name, set_certification, set_member_protection, set/get_member_info. */
export const createSettingsStore = (_client: DynamoDBDocumentClient, _tableName: string, _m: MembershipWrites): SettingsStore => ({});
