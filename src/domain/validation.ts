import { z } from 'zod';
import { ValidationError } from './errors.ts';

/**
 * Parse input with a zod schema; the first problem becomes a ValidationError naming the field
 * (as a dotted path) and the rule (zod's issue code), never a 500.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  let field = issue.path.map(String).join('.') || what;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    field = [...issue.path.map(String), key === '' ? '(empty property name)' : key].join('.');
    message = key === '' ? 'A property with an empty name is not supported.' : `Property '${key}' is not supported on this resource.`;
  } else if (issue.code === 'invalid_type' && input !== null && typeof input === 'object' && issue.path.length > 0 && valueAt(input, issue.path) === undefined) {
    message = `Property '${field}' is required.`;
  } else if (issue.path.length === 0 && issue.code === 'invalid_type') {
    message = `The ${what} must be a JSON object.`;
  } else {
    message = `Invalid value for '${field}': ${message}`;
  }
  throw new ValidationError(field, issue.code, message);
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

/** A GUID in Graph's lower-case 8-4-4-4-12 form (any version; Entra's template ids are not v4). */
export const guid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a GUID')
  .transform((s) => s.toLowerCase());

export function isGuid(s: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s);
}

/** No control characters and well-formed Unicode: what text and jsonb columns can hold. */
export function isCleanText(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f]/.test(s) && s.isWellFormed();
}

/** Strings from the outside never carry control characters or lone surrogates. */
export const text = (max: number) =>
  z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`)
    .refine(isCleanText, 'must not contain control characters or malformed Unicode');
