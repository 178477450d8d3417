import { createUserRepository } from '../../store/users.ts';
import { client, tableName } from './client.ts';

/** The container's user profiles (with the claims it already projected). */
export const users = createUserRepository(client, tableName);
