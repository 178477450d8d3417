import { ensureJava } from './java.ts';

/** `npm test` runs this first: without Java 17+ it stops at once with the one-line install hint. */
ensureJava('exit');
