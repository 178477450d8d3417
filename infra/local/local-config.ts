import type * as z from 'zod';
import { locationSchema } from './runtime-file.ts';

/**
 * The local runtime's configuration check: the Lambda config of `lib/config.ts` (as the handlers
 * will read it) plus the variables only the local runtime reads. `npm start` runs it before
 * anything starts, so a bad value stops it with one line naming the variable instead of answering
 * every request with a 500.
 */

export const LOCAL_TABLE_NAME = 'sealtalk-group-local';

/** Variables only the local runtime reads (the RONGCLOUD_* ones are checked by lib/im/client.ts). */
const localSchema = locationSchema;

const problemsOf = (error: z.ZodError): string[] => error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);

const CONFIG_ERROR = /^invalid configuration: /;

/** The problems of a `parseConfig` error; anything else (a bug) is thrown on. */
const problemsOfConfigError = (error: unknown): string => {
  if (error instanceof Error && CONFIG_ERROR.test(error.message)) return error.message.replace(CONFIG_ERROR, '');
  throw error;
};

/**
 * `null` when the local runtime can run with `env` (`TABLE_NAME` defaults to the local table);
 * otherwise ONE line naming every bad variable:
 * `invalid configuration: LOG_LEVEL: Invalid option: ...; PORT: expected a port number ...`.
 *
 * `lib/config.ts` parses `process.env` when it is first imported (here, lazily; set `TABLE_NAME`
 * first): when `process.env` itself is bad, that import fails, and its problems are reported.
 */
export const checkLocalConfig = async (env: NodeJS.ProcessEnv): Promise<string | null> => {
  const problems: string[] = [];
  try {
    const { parseConfig } = await import('#lib/config.ts');
    parseConfig({ ...env, TABLE_NAME: env.TABLE_NAME || LOCAL_TABLE_NAME });
  } catch (error) {
    problems.push(problemsOfConfigError(error));
  }
  const local = localSchema.safeParse(env);
  if (!local.success) problems.push(...problemsOf(local.error));
  try {
    const { rongCloudConfigFromEnv } = await import('#lib/im/client.ts');
    rongCloudConfigFromEnv(env);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    problems.push(error.message.replace(/^invalid RongCloud configuration: /, ''));
  }
  return problems.length === 0 ? null : `invalid configuration: ${problems.join('; ')}`;
};
