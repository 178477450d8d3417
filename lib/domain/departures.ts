/** Departures: POST /group/kick, /group/quit, /group/exited_list. */

/** What these operations need from storage (implemented in lib/store/departures.ts). */
export type DepartureStore = Record<never, never>;
