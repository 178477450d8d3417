import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DepartureStore } from '../domain/departures.ts';
import type { MembershipWrites } from './membership.ts';

/** Departures: kick, quit, the exited list. */
export const createDepartureStore = (_client: DynamoDBDocumentClient, _tableName: string, _m: MembershipWrites): DepartureStore => ({});
