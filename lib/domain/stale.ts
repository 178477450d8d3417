import { NotAllowed } from './errors.ts';

/**
 * Optimistic decisions: an operation reads, decides, then commits with conditions that the state is
 * still what it read. A failed condition of that kind is `StaleRead`: the operation reads and
 * decides again, a few times, with a short jittered pause; if the state keeps moving, the answer is
 * a 405 asking to try again (never a 500).
 */

export class StaleRead extends Error {
  constructor(what: string) {
    super(`stale read: ${what}`);
    this.name = 'StaleRead';
  }
}

export const KEPT_CHANGING = 'The group kept changing during the request; try again.';

export const withFreshRead = async <T>(run: () => Promise<T>, attempts: number): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof StaleRead)) throw error;
      if (attempt >= attempts) throw new NotAllowed(KEPT_CHANGING);
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * Math.min(attempt, 8)));
    }
  }
};
