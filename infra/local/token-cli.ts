import { join } from 'node:path';
import { localLocation, readRuntime } from './runtime-file.ts';
import { loadSecret, mintToken, parseTokenArgs, profileDetail, publishProfile, readSecretFile, SECRET_FILE, TOKEN_USAGE } from './tokens.ts';

/**
 * `npm run -s token -- <userId> [--name N] ...`: prints a token the local gateway on `PORT` (default
 * 3000) accepts, and nothing else on stdout, so `TOKEN=$(npm run -s token -- alice)` works.
 *
 * - While `npm start` runs on that port, its runtime file (runtime-file.ts) names its secret: the
 *   token is signed with it, whatever `DATA_DIR` says here, and nothing is created. With profile
 *   flags, the profile is also published as `UserProfileUpdated` on the local bus (once it runs),
 *   as the identity provider's user service would.
 * - Otherwise the secret is `$DATA_DIR/local-jwt-secret` (created if missing, for the server started
 *   later with the same `DATA_DIR`), and one line on stderr says so.
 *
 * `LOCAL_JWT_SECRET`, when set, always wins. Usage errors go to stderr with exit code 2.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const args = parseTokenArgs(process.argv.slice(2));
if (!args.ok) {
  console.error(`${args.error}\n${TOKEN_USAGE}`);
  process.exit(2);
}

let location: ReturnType<typeof localLocation>;
try {
  location = localLocation(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}

const { port } = location;
const runtime = readRuntime(port);
const fromEnv = process.env.LOCAL_JWT_SECRET;
let secret: string;
if (runtime) {
  if (fromEnv) secret = fromEnv;
  else if (runtime.secretFile) secret = readSecretFile(runtime.secretFile);
  else {
    console.error(
      `the local runtime on port ${port} signs with the LOCAL_JWT_SECRET of its environment: run npm run token with the same LOCAL_JWT_SECRET`,
    );
    process.exit(1);
  }
} else {
  secret = loadSecret(location.dataDir);
  console.error(
    `no local runtime is running on port ${port}: signed with ${fromEnv ? 'LOCAL_JWT_SECRET' : join(location.dataDir, SECRET_FILE)}` +
      ` (npm start uses it with the same ${fromEnv ? 'LOCAL_JWT_SECRET' : 'DATA_DIR'})`,
  );
}

process.stdout.write(`${await mintToken(args.userId, args.claims, secret)}\n`);

const detail = profileDetail(args.userId, args.claims);
if (runtime?.busEndpoint && runtime.busName && detail) {
  try {
    await publishProfile({ endpoint: runtime.busEndpoint, busName: runtime.busName }, detail);
  } catch (error) {
    console.error(
      `warning: the profile of ${args.userId} was not published on the local bus (${error instanceof Error ? error.message : String(error)}); ` +
        'it applies with their first request instead',
    );
  }
}
