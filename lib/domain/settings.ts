/** Settings: set_bulletin, get_bulletin, set_portrait_uri, set_display_name, set_certification, set_member_protection, set/get_member_info. */

/** What these operations need from storage (implemented in lib/store/settings.ts). */
export type SettingsStore = Record<never, never>;
