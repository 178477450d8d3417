/** copy_group. */

/** What these operations need from storage (implemented in lib/store/copy.ts). */
export type CopyStore = Record<never, never>;
