import { customAlphabet } from 'nanoid';

/**
 * Group ids: opaque random strings over RongCloud's allowed alphabet `[0-9A-Za-z]`, never reused
 * (creation is conditional on the id being new). 22 characters ≈ 131 bits.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const GROUP_ID_LENGTH = 22;

// Pure: a bundle that never creates a group (most of them) leaves nanoid out.
export const newGroupId: () => string = /* @__PURE__ */ customAlphabet(ALPHABET, GROUP_ID_LENGTH);

/** Whether a string could name a group at all (RongCloud: at most 64 characters of [0-9A-Za-z]). */
export const isPossibleGroupId = (id: string): boolean => /^[0-9A-Za-z]{1,64}$/.test(id);
