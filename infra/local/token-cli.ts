import { loadSecret, mintToken, parseTokenArgs, TOKEN_USAGE } from './tokens.ts';

/**
 * `npm run token -- <userId> [--name N] ...`: prints a token the local gateway accepts, and nothing
 * else, so `TOKEN=$(npm run -s token -- alice)` works. Usage errors go to stderr with exit code 2.
 */

const args = parseTokenArgs(process.argv.slice(2));
if (!args.ok) {
  console.error(`${args.error}\n${TOKEN_USAGE}`);
  process.exit(2);
}
process.stdout.write(`${await mintToken(args.userId, args.claims, loadSecret())}\n`);
