/** Roles and the group's end: POST /group/transfer, /group/set_manager, /group/remove_manager, /group/dismiss. */

/** What these operations need from storage (implemented in lib/store/roles.ts). */
export type RoleStore = Record<never, never>;
