import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Captures what is written to stdout (log lines, EMF objects) in each test of the calling file, with
 * `env` stubbed for the test: returns the lines written so far (one JSON object each).
 */
export const captureStdout = (env: Record<string, string>): (() => string[]) => {
  let lines: string[] = [];
  beforeEach(() => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    lines = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  return () => lines;
};
