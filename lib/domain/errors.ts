/**
 * Domain errors: typed, each with a stable `code`. The domain knows nothing of HTTP; `lib/http`
 * maps each class to a status by `instanceof`, in one place.
 *
 * The classes mirror the kinds of answers the SealTalk reference gives, so every endpoint keeps the
 * status its clients already handle (kick by a plain member 403, set_manager by a non-owner 401, ...).
 */

export abstract class DomainError extends Error {
  /** Stable machine-readable code, e.g. `GROUP_NOT_FOUND`. Logged; not part of the wire format. */
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is well-formed JSON but breaks a rule (length, count, ...). The message names the field. */
export class InvalidInput extends DomainError {
  readonly code = 'INVALID_INPUT';
}

/** The group (or other addressed thing) does not exist, cannot exist, or is gone. */
export class NotFound extends DomainError {
  readonly code = 'NOT_FOUND';
}

/** The caller is known but may not do this (the reference's 403s, and our added checks). */
export class Forbidden extends DomainError {
  readonly code = 'FORBIDDEN';
}

/** The caller lacks the role for this (the reference's 401 "no permission" answers). */
export class NoPermission extends DomainError {
  readonly code = 'NO_PERMISSION';
}

/** The caller is not in the group, where the reference answers 402. */
export class NotInGroup extends DomainError {
  readonly code = 'NOT_IN_GROUP';
}

/** The request conflicts with what already exists (the reference's 405 answers). */
export class NotAllowed extends DomainError {
  readonly code = 'NOT_ALLOWED';
}

/**
 * A business rejection the reference answers inside HTTP 200 with its own body code
 * (1000 user group limit, 20001 no permission, ... 20007 member limit).
 */
export class Rejected extends DomainError {
  readonly code: string;

  constructor(
    readonly businessCode: BusinessCode,
    message: string,
  ) {
    super(message);
    this.code = `REJECTED_${businessCode}`;
  }
}

export const BusinessCodes = {
  userGroupLimit: 1000,
  noPermission: 20001,
  limit: 20002,
  notFound: 20003,
  protected: 20004,
  copied: 20005,
  noGroup: 20006,
  memberLimit: 20007,
} as const;
export type BusinessCode = (typeof BusinessCodes)[keyof typeof BusinessCodes];
