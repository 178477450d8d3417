/**
 * EventBridge event patterns, evaluated locally: the local bus routes events with them and the
 * local event-source mappings filter DynamoDB stream records with them (Lambda filter criteria use
 * the same grammar), so this works on any JSON value, not only on EventBridge envelopes.
 *
 * Grammar: a pattern is an object; each field is either a nested pattern (object) or a non-empty
 * array of matchers (a field matches if any matcher does). Every field must match (AND). `$or`
 * (an array of at least two patterns) may appear at any object level and matches if any of its
 * patterns matches the object at that level.
 *
 * Matchers apply to the LEAF values at a field (strings, numbers, booleans, null); an array in the
 * event is a set of leaves, so the field matches if any element does. An object in the event has
 * no leaves: only `{exists: false}` matches it. A nested pattern applied to an array of objects
 * matches if one element matches the whole nested pattern (no cross-element matches).
 *
 * Matchers: a literal (exact; numbers compare numerically, `"5"` never matches `5`),
 * `{prefix}`, `{suffix}` (a string, or `{'equals-ignore-case': string}`), `{'equals-ignore-case'}`,
 * `{'anything-but': literal | literal[] | {prefix} | {suffix} | {'equals-ignore-case'} | {wildcard}}`
 * (needs the field to be present), `{numeric: [op, n(, op, n)]}` (numbers only), `{exists}`,
 * `{wildcard: 'a*b'}` (`*` is any run of characters; `\*` and `\\` escape).
 */

type Leaf = string | number | boolean | null;
/** Decides a field from its leaves. */
type LeafMatcher = (leaves: readonly Leaf[]) => boolean;
/** Decides an object level from the value at that level (any JSON value, or undefined). */
type ObjectMatcher = (value: unknown) => boolean;

export class InvalidEventPatternError extends Error {
  constructor(path: string, reason: string) {
    super(`Event pattern is not valid${path ? ` at "${path}"` : ''}: ${reason}`);
    this.name = 'InvalidEventPatternError';
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isLeaf = (value: unknown): value is Leaf =>
  value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

const collectLeaves = (value: unknown, into: Leaf[] = []): Leaf[] => {
  if (Array.isArray(value)) for (const element of value) collectLeaves(element, into);
  else if (isLeaf(value)) into.push(value);
  return into;
};

const fieldOf = (value: unknown, key: string): unknown =>
  isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, key) ? value[key] : undefined;

// --- leaf predicates --------------------------------------------------------------------------------

type Predicate = (leaf: Leaf) => boolean;

const wildcardRegExp = (wildcard: string, path: string): RegExp => {
  let source = '';
  let previousStar = false;
  for (let i = 0; i < wildcard.length; i++) {
    const ch = wildcard[i] as string;
    if (ch === '\\') {
      const next = wildcard[i + 1];
      if (next !== '*' && next !== '\\') throw new InvalidEventPatternError(path, `wildcard ${show(wildcard)}: "\\" must escape "*" or "\\"`);
      source += `\\${next}`;
      i++;
      previousStar = false;
    } else if (ch === '*') {
      if (previousStar) throw new InvalidEventPatternError(path, `wildcard ${show(wildcard)}: consecutive "*" are not allowed`);
      source += '[\\s\\S]*';
      previousStar = true;
    } else {
      source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      previousStar = false;
    }
  }
  return new RegExp(`^${source}$`, 'u');
};

/** `prefix`/`suffix` argument: a string, or `{'equals-ignore-case': string}`. */
const affixPredicate = (kind: 'prefix' | 'suffix', argument: unknown, path: string): Predicate => {
  let affix: string;
  let ignoreCase = false;
  if (typeof argument === 'string') affix = argument;
  else if (isPlainObject(argument) && Object.keys(argument).length === 1 && typeof argument['equals-ignore-case'] === 'string') {
    affix = argument['equals-ignore-case'].toLowerCase();
    ignoreCase = true;
  } else {
    throw new InvalidEventPatternError(path, `${kind} must be a string or {"equals-ignore-case": string}, got ${show(argument)}`);
  }
  return (leaf) => {
    if (typeof leaf !== 'string') return false;
    const text = ignoreCase ? leaf.toLowerCase() : leaf;
    return kind === 'prefix' ? text.startsWith(affix) : text.endsWith(affix);
  };
};

const literalPredicate = (literal: Leaf): Predicate => (leaf) => leaf === literal;

const numericOperators = new Set(['=', '<', '<=', '>', '>=']);

const numericPredicate = (argument: unknown, path: string): Predicate => {
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) {
    throw new InvalidEventPatternError(path, `numeric must be [op, number] or [op, number, op, number], got ${show(argument)}`);
  }
  const conditions: { op: string; bound: number }[] = [];
  for (let i = 0; i < argument.length; i += 2) {
    const op: unknown = argument[i];
    const bound: unknown = argument[i + 1];
    if (typeof op !== 'string' || !numericOperators.has(op)) throw new InvalidEventPatternError(path, `numeric operator ${show(op)} is not one of = < <= > >=`);
    if (typeof bound !== 'number' || !Number.isFinite(bound)) throw new InvalidEventPatternError(path, `numeric bound ${show(bound)} is not a number`);
    if (op === '=' && argument.length === 4) throw new InvalidEventPatternError(path, 'numeric "=" cannot be part of a range');
    conditions.push({ op, bound });
  }
  return (leaf) =>
    typeof leaf === 'number' &&
    conditions.every(({ op, bound }) => {
      switch (op) {
        case '=':
          return leaf === bound;
        case '<':
          return leaf < bound;
        case '<=':
          return leaf <= bound;
        case '>':
          return leaf > bound;
        default:
          return leaf >= bound;
      }
    });
};

const anythingButPredicate = (argument: unknown, path: string): Predicate => {
  if (typeof argument === 'string' || typeof argument === 'number') return (leaf) => leaf !== argument;
  if (Array.isArray(argument)) {
    if (argument.length === 0) throw new InvalidEventPatternError(path, 'anything-but list must not be empty');
    for (const value of argument) {
      if (typeof value !== 'string' && (typeof value !== 'number' || !Number.isFinite(value))) {
        throw new InvalidEventPatternError(path, `anything-but list elements must be strings or numbers, got ${show(value)}`);
      }
    }
    const excluded = new Set<Leaf>(argument as (string | number)[]);
    return (leaf) => !excluded.has(leaf);
  }
  if (isPlainObject(argument) && Object.keys(argument).length === 1) {
    const [[kind, value]] = Object.entries(argument) as [[string, unknown]];
    switch (kind) {
      case 'prefix':
      case 'suffix': {
        const affix = affixPredicate(kind, value, path);
        return (leaf) => typeof leaf === 'string' && !affix(leaf);
      }
      case 'equals-ignore-case': {
        const values = typeof value === 'string' ? [value] : value;
        if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
          throw new InvalidEventPatternError(path, `anything-but equals-ignore-case must be a string or a non-empty string list, got ${show(value)}`);
        }
        const excluded = new Set(values.map((v: string) => v.toLowerCase()));
        return (leaf) => typeof leaf === 'string' && !excluded.has(leaf.toLowerCase());
      }
      case 'wildcard': {
        const values = typeof value === 'string' ? [value] : value;
        if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
          throw new InvalidEventPatternError(path, `anything-but wildcard must be a string or a non-empty string list, got ${show(value)}`);
        }
        const patterns = values.map((v: string) => wildcardRegExp(v, path));
        return (leaf) => typeof leaf === 'string' && !patterns.some((re) => re.test(leaf));
      }
      default:
        break;
    }
  }
  throw new InvalidEventPatternError(
    path,
    `anything-but must be a string, a number, a list of them, or one of {prefix}, {suffix}, {equals-ignore-case}, {wildcard}; got ${show(argument)}`,
  );
};

const compileMatcher = (matcher: unknown, path: string): LeafMatcher => {
  if (isLeaf(matcher)) {
    const predicate = literalPredicate(matcher);
    return (leaves) => leaves.some(predicate);
  }
  if (!isPlainObject(matcher)) throw new InvalidEventPatternError(path, `matcher ${show(matcher)} is not a literal or a matcher object`);
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new InvalidEventPatternError(path, `a matcher object has exactly one key, got ${show(matcher)}`);
  const kind = keys[0] as string;
  const argument = matcher[kind];
  let predicate: Predicate;
  switch (kind) {
    case 'exists': {
      if (typeof argument !== 'boolean') throw new InvalidEventPatternError(path, `exists must be true or false, got ${show(argument)}`);
      return (leaves) => leaves.length > 0 === argument;
    }
    case 'prefix':
    case 'suffix':
      predicate = affixPredicate(kind, argument, path);
      break;
    case 'equals-ignore-case': {
      if (typeof argument !== 'string') throw new InvalidEventPatternError(path, `equals-ignore-case must be a string, got ${show(argument)}`);
      const lower = argument.toLowerCase();
      predicate = (leaf) => typeof leaf === 'string' && leaf.toLowerCase() === lower;
      break;
    }
    case 'anything-but':
      predicate = anythingButPredicate(argument, path);
      break;
    case 'numeric':
      predicate = numericPredicate(argument, path);
      break;
    case 'wildcard': {
      if (typeof argument !== 'string') throw new InvalidEventPatternError(path, `wildcard must be a string, got ${show(argument)}`);
      const re = wildcardRegExp(argument, path);
      predicate = (leaf) => typeof leaf === 'string' && re.test(leaf);
      break;
    }
    default:
      throw new InvalidEventPatternError(path, `unknown matcher "${kind}"`);
  }
  return (leaves) => leaves.some(predicate);
};

// --- objects ----------------------------------------------------------------------------------------

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

const compileObject = (pattern: unknown, path: string): ObjectMatcher => {
  if (!isPlainObject(pattern)) throw new InvalidEventPatternError(path, `a pattern must be an object, got ${show(pattern)}`);
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new InvalidEventPatternError(path, 'a pattern must not be empty');
  const tests: ObjectMatcher[] = [];
  for (const key of keys) {
    const spec = pattern[key];
    const at = join(path, key);
    if (key === '$or') {
      if (!Array.isArray(spec) || spec.length < 2) throw new InvalidEventPatternError(at, '$or must be a list of at least two patterns');
      const alternatives = spec.map((alternative, i) => compileObject(alternative, `${at}[${i}]`));
      tests.push((value) => alternatives.some((alternative) => alternative(value)));
    } else if (Array.isArray(spec)) {
      if (spec.length === 0) throw new InvalidEventPatternError(at, 'empty arrays are not allowed');
      const matchers = spec.map((matcher, i) => compileMatcher(matcher, `${at}[${i}]`));
      tests.push((value) => {
        const leaves = collectLeaves(fieldOf(value, key));
        return matchers.some((matcher) => matcher(leaves));
      });
    } else if (isPlainObject(spec)) {
      const nested = compileObject(spec, at);
      tests.push((value) => {
        const field = fieldOf(value, key);
        if (!Array.isArray(field)) return nested(field);
        const objects = (field.flat(Infinity) as unknown[]).filter(isPlainObject);
        return objects.length === 0 ? nested(undefined) : objects.some((element) => nested(element));
      });
    } else {
      throw new InvalidEventPatternError(at, `a field must be a list of matchers or a nested pattern, got ${show(spec)}`);
    }
  }
  return (value) => tests.every((test) => test(value));
};

const compiled = new WeakMap<object, ObjectMatcher>();

/** Compiles (and caches, per pattern object) a pattern; throws {@link InvalidEventPatternError}. */
export const compilePattern = (pattern: unknown): ((event: unknown) => boolean) => {
  if (isPlainObject(pattern)) {
    const cached = compiled.get(pattern);
    if (cached) return cached;
  }
  const matcher = compileObject(pattern, '');
  compiled.set(pattern as object, matcher);
  return matcher;
};

/** Throws {@link InvalidEventPatternError} if `pattern` is not a valid event pattern. */
export const validatePattern = (pattern: unknown): void => {
  compilePattern(pattern);
};

/**
 * Whether `event` (any JSON value) matches the EventBridge `pattern`. Throws
 * {@link InvalidEventPatternError} on a malformed pattern rather than silently never matching.
 */
export const matchesPattern = (pattern: unknown, event: unknown): boolean => compilePattern(pattern)(event);
