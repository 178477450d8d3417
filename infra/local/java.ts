import { spawnSync } from 'node:child_process';

/**
 * DynamoDB Local needs Java 17+. `npm start` and `npm test` check once, up front, and stop with one
 * line saying how to install it, instead of failing later with a Java stack trace.
 */

export const MIN_JAVA_MAJOR = 17;

export const JAVA_MISSING_MESSAGE =
  'Java 17+ is required for DynamoDB Local. Debian/Ubuntu: apt-get install openjdk-17-jre-headless';

export class JavaMissing extends Error {
  constructor() {
    super(JAVA_MISSING_MESSAGE);
    this.name = 'JavaMissing';
    // The message is the whole story: no stack trace under it.
    this.stack = JAVA_MISSING_MESSAGE;
  }
}

/**
 * The major version in `java -version` output: `openjdk version "17.0.15"` → 17,
 * `java version "1.8.0_292"` → 8, `openjdk version "21" 2023-09-19` → 21. `undefined` if none.
 */
export const parseJavaMajor = (versionOutput: string): number | undefined => {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
};

/** The installed Java's major version, or `undefined` when `java` cannot run. */
export const javaMajorVersion = (): number | undefined => {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 15_000 });
  if (result.error || result.status !== 0) return undefined;
  return parseJavaMajor(`${result.stderr}\n${result.stdout}`);
};

/**
 * Checks for Java 17+. When it is missing or too old: `'exit'` prints the one-line hint to stderr
 * and exits with 1 (`npm start`); `'throw'` throws {@link JavaMissing} (test set-up).
 */
export const ensureJava = (onMissing: 'exit' | 'throw' = 'throw'): void => {
  const major = javaMajorVersion();
  if (major !== undefined && major >= MIN_JAVA_MAJOR) return;
  if (onMissing === 'throw') throw new JavaMissing();
  console.error(JAVA_MISSING_MESSAGE);
  process.exit(1);
};
