import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import { validationError, type ErrorDetail } from '../core/errors.js';
import type { DefinitionValidators } from '../core/schema-generation.js';
import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import { createSchema, getQuerySchema, listQuerySchema, updateSchema } from './json-schema.js';

const addFormats = addFormatsPkg as unknown as (ajv: Ajv) => Ajv;

const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Dates and date-times must name an instant from year 1 to 9999 that JavaScript can represent:
 * PostgreSQL has no year 0, and filters and cursors convert date-times through Date.
 */
function limitYears(ajv: Ajv): void {
  const within = (ms: number) => ms >= FIRST_INSTANT && ms <= LAST_INSTANT;
  for (const [name, check] of [
    ['date', (v: string) => within(Date.parse(`${v}T00:00:00Z`))],
    ['date-time', (v: string) => within(Date.parse(v))],
  ] as const) {
    const base = ajv.formats[name] as { validate: (v: string) => boolean; compare?: (a: string, b: string) => number | undefined };
    ajv.addFormat(name, { type: 'string', validate: (v: string) => base.validate(v) && check(v), compare: base.compare });
  }
}

function makeAjv(coerce: boolean, useDefaults: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, coerceTypes: coerce, useDefaults, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  limitYears(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false, false);
const createAjv = makeAjv(false, true);
const queryAjv = makeAjv(true, false);
const queryInputAjv = makeAjv(true, true);

/** Turns Ajv's errors into the envelope's details, one per field problem, with its JSON path. */
export function toDetails(errors: ErrorObject[] | null | undefined, root: '/body' | '/query'): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const e of errors ?? []) {
    const params = e.params as Record<string, any>;
    let path = `${root}${e.instancePath}`;
    let message: string;
    switch (e.keyword) {
      case 'additionalProperties':
        path = `${path}/${params.additionalProperty}`;
        message = root === '/query' ? `unknown query parameter '${params.additionalProperty}'` : `unknown field '${params.additionalProperty}'`;
        break;
      case 'required':
        path = `${path}/${params.missingProperty}`;
        message = 'is required';
        break;
      case 'enum':
        message = `must be one of: ${(params.allowedValues as unknown[]).filter((v) => v !== null).join(', ')}`;
        break;
      case 'format':
        message = `must be a valid ${params.format}`;
        break;
      case 'type':
        message = `must be ${String(params.type).replace(',', ' or ')}`;
        break;
      default:
        message = e.message ?? 'is not valid';
    }
    // A nullable enum fails both `type` and `enum`: keep the most useful message per path.
    const existing = details.find((d) => d.path === path);
    if (existing) {
      if (e.keyword === 'enum') existing.message = message;
      continue;
    }
    details.push({ path, message });
  }
  return details;
}

/** Compiled validators for one definition; compiled once per schema generation. */
export type { DefinitionValidators } from '../core/schema-generation.js';

/** How deep an input value may nest. JSON.parse accepts thousands of levels; recursive code does not. */
export const MAX_INPUT_DEPTH = 32;
/** Enough to show a client what is wrong without an answer as large as its body. */
const MAX_INPUT_PROBLEMS = 100;
/** A UTF-16 surrogate that is not half of a pair (with the `u` flag a proper pair is one code point). */
const UNPAIRED_SURROGATE = /\p{Cs}/u;

function stringProblem(s: string): string | undefined {
  // PostgreSQL text and jsonb cannot hold U+0000.
  if (s.includes('\u0000')) return 'the NUL character (U+0000)';
  // UTF-8 cannot encode a lone surrogate: PostgreSQL jsonb refuses it, SQLite would store U+FFFD.
  if (UNPAIRED_SURROGATE.test(s)) return 'an unpaired UTF-16 surrogate (U+D800 to U+DFFF)';
  return undefined;
}

/** One JSON-pointer segment (RFC 6901 escapes `~` and `/`). */
const pointerSegment = (key: string | number) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

/** A value met by the walk; its path is built only when it has a problem. */
interface Visit {
  value: unknown;
  depth: number;
  parent?: Visit;
  key?: string | number;
}

function pointer(root: string, visit: Visit | undefined): string {
  const segments: string[] = [];
  for (let v = visit; v?.parent; v = v.parent) segments.push(pointerSegment(v.key!));
  return segments.length ? `${root}/${segments.reverse().join('/')}` : root;
}

/**
 * What every input (body or query, keys and values) is checked for before the schema runs, on
 * every database alike: nesting deeper than MAX_INPUT_DEPTH, NUL characters, unpaired surrogates
 * and `__proto__` keys (copied by assignment, one would change an object's prototype). One walk
 * with an explicit stack: a recursive one overflows the call stack on deeply nested JSON.
 */
export function inputProblems(input: unknown, root: '/body' | '/query'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const stack: Visit[] = [{ value: input, depth: 1 }];
  while (stack.length && problems.length < MAX_INPUT_PROBLEMS) {
    const visit = stack.pop()!;
    const { value, depth, key } = visit;
    // A key is checked when its value is visited, so that problems come out in document order.
    if (typeof key === 'string') {
      if (key === '__proto__') {
        problems.push({ path: pointer(root, visit), message: "'__proto__' is not an allowed key" });
        continue;
      }
      const keyProblem = stringProblem(key);
      if (keyProblem) {
        problems.push({ path: pointer(root, visit.parent), message: `must not contain ${keyProblem} in a key` });
        continue;
      }
    }
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) problems.push({ path: pointer(root, visit), message: `must not contain ${problem}` });
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if (depth > MAX_INPUT_DEPTH) return [{ path: root, message: `is nested more than ${MAX_INPUT_DEPTH} levels deep` }];
    // Pushed in reverse, so that they are visited in document order.
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: depth + 1, parent: visit, key: i });
    } else {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (value as Record<string, unknown>)[keys[i]], depth: depth + 1, parent: visit, key: keys[i] });
    }
  }
  return problems;
}

function run(fn: ValidateFunction, data: Record<string, unknown>, root: '/body' | '/query'): Record<string, unknown> {
  const problems = inputProblems(data, root);
  if (problems.length) throw validationError(problems);
  if (!fn(data)) throw validationError(toDetails(fn.errors, root));
  return data;
}

export function compileValidators(def: ResolvedDefinition, registry?: Registry): DefinitionValidators {
  const create = createAjv.compile(createSchema(def));
  const update = bodyAjv.compile(updateSchema(def));
  const listQuery = queryAjv.compile(listQuerySchema(def, registry));
  const getQuery = queryAjv.compile(getQuerySchema(def));
  const readOnly = new Set([...def.columns.filter((c) => c.system || c.field.readOnly).map((c) => c.name), ...Object.keys(def.computed ?? {})]);
  const createOnly = new Set(Object.entries(def.fields).filter(([, f]) => f.createOnly).map(([n]) => n));
  if (def.parent) readOnly.add(def.parent.field);

  /** Read-only and create-only fields get a message of their own, before the schema runs. */
  const precheck = (body: Record<string, unknown>, forUpdate: boolean) => {
    const details: ErrorDetail[] = [];
    for (const key of Object.keys(body)) {
      if (readOnly.has(key)) details.push({ path: `/body/${key}`, message: `'${key}' is read-only` });
      else if (forUpdate && createOnly.has(key)) details.push({ path: `/body/${key}`, message: `'${key}' can only be set on create` });
    }
    if (details.length) throw validationError(details);
  };

  /** A number given for an acceptsNumber field becomes its decimal text, which the pattern then checks. */
  const numberFields = Object.entries(def.fields).filter(([, f]) => f.acceptsNumber).map(([n]) => n);
  const numbersToText = (body: Record<string, unknown>) => {
    for (const name of numberFields) if (typeof body[name] === 'number' && Number.isFinite(body[name])) body[name] = String(body[name]);
  };

  /** An empty string clears an optional field: it is stored as null. */
  const emptyToNull = (body: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(body)) {
      if (value === '' && def.fields[key] && !def.fields[key].required) body[key] = null;
    }
  };

  return {
    create(body) {
      precheck(body, false);
      emptyToNull(body);
      numbersToText(body);
      // A null for an optional field with a default means "not given".
      for (const [key, value] of Object.entries(body)) if (value === null && def.fields[key]?.default !== undefined) delete body[key];
      return run(create, body, '/body');
    },
    update(body) {
      precheck(body, true);
      emptyToNull(body);
      numbersToText(body);
      return run(update, body, '/body');
    },
    listQuery: (query) => run(listQuery, query, '/query'),
    getQuery: (query) => run(getQuery, query, '/query'),
  };
}

/** The body check of a plugin action: its declared JSON Schema, no unknown fields, defaults filled. */
export function compileInputSchema(schema: Record<string, unknown>): (input: Record<string, unknown>) => Record<string, unknown> {
  const fn = createAjv.compile({ additionalProperties: false, ...schema, type: 'object' });
  return (input) => run(fn, input, '/body');
}

/** A query check compiled from a JSON Schema: strings coerced to the schema's types, details under /query. */
export function compileQueryCheck(schema: Record<string, unknown>): (query: Record<string, unknown>) => Record<string, unknown> {
  const fn = queryAjv.compile(schema);
  return (query) => run(fn, query, '/query');
}

/** A body check compiled from a JSON Schema (no coercion), details under /body. */
export function compileBodyCheck(schema: Record<string, unknown>): (body: Record<string, unknown>) => Record<string, unknown> {
  const fn = bodyAjv.compile(schema);
  return (body) => run(fn, body, '/body');
}

/** The query check of a GET action: its declared JSON Schema over the query string, values coerced, defaults filled. */
export function compileQueryInputSchema(schema: Record<string, unknown>): (input: Record<string, unknown>) => Record<string, unknown> {
  const fn = queryInputAjv.compile({ additionalProperties: false, ...schema, type: 'object' });
  return (input) => run(fn, input, '/query');
}
