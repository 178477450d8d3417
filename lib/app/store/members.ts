import { createMemberRepository } from '../../store/members.ts';
import { client, tableName } from './client.ts';

/** The container's member repository. */
export const members = createMemberRepository(client, tableName);
