import { config, pipe, transform, ZodMiniNumber, type core, type ZodMiniPipe, type ZodMiniTransform } from 'zod/mini';
import { _coercedNumber } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

/**
 * Bundled code (lib/, functions/) validates with `zod/mini`: the same package as `zod`, functions
 * instead of methods, so a Lambda bundles only the validators it calls (classic zod's methods pull in
 * all of them, JSON Schema generation included). Mini loads no locale by itself: this module loads
 * English once, so default messages (configuration, events) read exactly as classic zod's.
 *
 * Every module of lib/ that imports `zod/mini` imports this one too (`import './zod.ts'`, or a helper
 * from it; tests/unit/zod-imports.test.ts checks it), so the locale is set before any schema parses;
 * a handler reaches it through lib/. Import zod itself with `import * as z from 'zod/mini'` in each
 * module: a namespace re-exported from here would make esbuild bundle every export of zod, every
 * locale included.
 */
config(en());

/**
 * `z.coerce.number()`: a number, from a string too. (zod/mini's `coerce` namespace, like any
 * namespace of zod's reached through another one, would bundle everything in it.)
 */
export const coercedNumber = (params?: string | core.$ZodNumberParams): ZodMiniNumber<unknown> => _coercedNumber(ZodMiniNumber, params);

/** Classic zod's `z.preprocess`: `fn` runs on the raw input, then `schema` parses its result. */
export const preprocess = <B extends core.$ZodType>(fn: (value: unknown) => unknown, schema: B): ZodMiniPipe<ZodMiniTransform<unknown, unknown>, B> =>
  pipe(transform(fn), schema);

/**
 * A schema made when first used, then kept: for modules whose schemas a function mostly does not
 * use (making zod schemas is a measurable part of a cold start).
 */
export const lazySchema = <S extends core.$ZodType>(make: () => S): (() => S) => {
  let made: S | undefined;
  return () => (made ??= make());
};
