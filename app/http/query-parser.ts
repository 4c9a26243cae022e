import { validationError, type ErrorDetail } from '../core/errors.js';

const NONE: ReadonlySet<string> = new Set();

/**
 * Reads a raw query string into the plain object an operation takes: repeated parameters are an
 * error (never silently last-wins) unless named `repeatable` and `[in]` lists are split on commas. Every rule about what the
 * parameters may be is the operation's.
 */
export function readQueryString(querystring: string, repeatable: ReadonlySet<string> = NONE): Record<string, unknown> {
  const params = new URLSearchParams(querystring);
  // No prototype: `__proto__`, `constructor` or `toString` are plain (unknown) parameters here.
  const out: Record<string, unknown> = Object.create(null);
  const repeated: ErrorDetail[] = [];
  for (const [key, value] of params) {
    // A parameter that may repeat is always a list, however often it is given.
    if (repeatable.has(key)) {
      out[key] = [...((out[key] as string[] | undefined) ?? []), value];
      continue;
    }
    if (Object.hasOwn(out, key)) {
      repeated.push({ path: `/query/${key}`, message: `'${key}' is given more than once` });
      continue;
    }
    out[key] = key.endsWith('[in]') ? value.split(',').map((v) => v.trim()).filter((v) => v !== '') : value;
  }
  if (repeated.length) throw validationError(repeated);
  return out;
}
