import { config } from '../config.ts';
import type { Limits } from '../domain/ports.ts';

/** A waiting invitation or join request lapses after 7 days. */
const NOTICE_TTL_S = 7 * 24 * 3600;

/** The limits of the domain, from the configuration (parsed once, at cold start). */
export const limits: Limits = {
  maxGroupMembers: config.MAX_GROUP_MEMBERS,
  maxUserGroups: config.MAX_USER_GROUPS,
  noticeTtlS: NOTICE_TTL_S,
  copyProtectionMs: config.COPY_PROTECTION_MS,
  copyIntervalMs: config.COPY_INTERVAL_MS,
};
