import type * as z from 'zod/mini';

/**
 * Shared by every zod boundary (HTTP input, bus events): one message naming each field, always in
 * the same shape.
 */

/** Turns zod issues into one message naming each field: `memberIds[1]: expected a non-empty user id`. */
export const describeIssues = (error: z.core.$ZodError): string =>
  error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
        '',
      );
      const message = issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
      return `${path || 'body'}: ${message}`;
    })
    .join('; ');
