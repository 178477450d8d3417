/** Group controls: mute_all, set/get_regular_clear, favourites (fav, user/favgroups). */

/** What these operations need from storage (implemented in lib/store/controls.ts). */
export type ControlsStore = Record<never, never>;
