import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsPkg from 'ajv-formats';
import { validationError, type ErrorDetail } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import { createSchema, getQuerySchema, listQuerySchema, updateSchema } from './json-schema.js';

const addFormats = addFormatsPkg as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean, useDefaults: boolean): Ajv {
  const ajv = new Ajv({ allErrors: true, coerceTypes: coerce, useDefaults, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

const bodyAjv = makeAjv(false, false);
const createAjv = makeAjv(false, true);
const queryAjv = makeAjv(true, false);

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

/** Compiled validators for one definition; compiled once at start. */
export interface DefinitionValidators {
  create(body: Record<string, unknown>): Record<string, unknown>;
  update(body: Record<string, unknown>): Record<string, unknown>;
  listQuery(query: Record<string, unknown>): Record<string, unknown>;
  getQuery(query: Record<string, unknown>): Record<string, unknown>;
}

function run(fn: ValidateFunction, data: Record<string, unknown>, root: '/body' | '/query'): Record<string, unknown> {
  if (!fn(data)) throw validationError(toDetails(fn.errors, root));
  return data;
}

export function compileValidators(def: ResolvedDefinition): DefinitionValidators {
  const create = createAjv.compile(createSchema(def));
  const update = bodyAjv.compile(updateSchema(def));
  const listQuery = queryAjv.compile(listQuerySchema(def));
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
      // A null for an optional field with a default means "not given".
      for (const [key, value] of Object.entries(body)) if (value === null && def.fields[key]?.default !== undefined) delete body[key];
      return run(create, body, '/body');
    },
    update(body) {
      precheck(body, true);
      emptyToNull(body);
      return run(update, body, '/body');
    },
    listQuery: (query) => run(listQuery, query, '/query'),
    getQuery: (query) => run(getQuery, query, '/query'),
  };
}
