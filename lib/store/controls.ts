import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ControlsStore } from '../domain/controls.ts';
import type { MembershipWrites } from './membership.ts';

/** Group controls: mute_all, set/get_regular_clear, favourites (fav, user/favgroups). */
export const createControlsStore = (_client: DynamoDBDocumentClient, _tableName: string, _m: MembershipWrites): ControlsStore => ({});
