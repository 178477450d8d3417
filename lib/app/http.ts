import { createEndpointFactory } from '../http/endpoint.ts';
import { users } from './store/users.ts';

/** Wraps a handler in the shared stack; the caller's profile claims are projected alongside it. */
export const endpoint = createEndpointFactory((caller) => users.projectClaims(caller.userId, caller.profile));
