import { filterOperators } from '../core/define.js';
import type { Registry } from '../core/registry.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../core/limits.js';
import type { FieldDefinition, FilterOperator, ResolvedDefinition } from '../core/types.js';

export type JsonSchema = Record<string, any>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Paging bounds. Databases disagree on how large an offset may be (PostgreSQL: bigint, SQLite:
 * 64-bit), and a number past them is a database error: keep `offset + limit` and
 * `(page - 1) * page_size` within a 32-bit signed integer so that every database accepts them.
 */
const MAX_OFFSET = INT32_MAX - MAX_PAGE_SIZE;
const MAX_PAGE = Math.floor(MAX_OFFSET / MAX_PAGE_SIZE) + 1;

/** The JSON Schema of one value of a field (never null; nullability is added by the caller). */
export function valueSchema(field: FieldDefinition, forInput = false): JsonSchema {
  const s: JsonSchema = {};
  switch (field.type) {
    case 'string':
    case 'text':
      s.type = 'string';
      if (field.maxLength !== undefined) s.maxLength = field.maxLength;
      if (field.minLength !== undefined) s.minLength = field.minLength;
      else if (forInput && field.required) s.minLength = 1;
      if (field.pattern) s.pattern = field.pattern;
      if (field.format) s.format = field.format;
      // The validators turn a number into its text before the schema runs (acceptsNumber).
      if (forInput && field.acceptsNumber) s.type = ['string', 'number'];
      break;
    case 'integer':
    case 'number':
      s.type = field.type;
      if (field.min !== undefined) s.minimum = field.min;
      if (field.max !== undefined) s.maximum = field.max;
      // Integer columns are 32-bit on PostgreSQL: bound them so that every database accepts the
      // same values (a larger one is a 400, not a database error).
      if (field.type === 'integer') {
        s.minimum = Math.max(s.minimum ?? INT32_MIN, INT32_MIN);
        s.maximum = Math.min(s.maximum ?? INT32_MAX, INT32_MAX);
      }
      break;
    case 'boolean':
      s.type = 'boolean';
      break;
    case 'date':
      s.type = 'string';
      s.format = 'date';
      break;
    case 'datetime':
      s.type = 'string';
      s.format = 'date-time';
      break;
    case 'enum':
      s.type = 'string';
      s.enum = [...field.values!];
      break;
    case 'uuid':
      s.type = 'string';
      s.format = 'uuid';
      break;
    case 'json':
      s.type = 'object';
      break;
    case 'string[]':
      s.type = 'array';
      s.items = { type: 'string', minLength: 1, maxLength: field.maxLength ?? 100 };
      s.maxItems = 100;
      break;
  }
  if (field.description) s.description = field.description;
  return s;
}

function nullable(schema: JsonSchema): JsonSchema {
  if (schema.enum) return { ...schema, type: ['string', 'null'], enum: [...schema.enum, null] };
  return { ...schema, type: [...(Array.isArray(schema.type) ? schema.type : [schema.type]), 'null'] };
}

/** The record as the API returns it (all fields; sensitive ones may be absent for a caller). */
export function outputSchema(def: ResolvedDefinition): JsonSchema {
  const properties: JsonSchema = {};
  const required: string[] = [];
  for (const col of def.columns) {
    if (col.name === 'org_id') continue;
    const base = valueSchema(col.field);
    if (col.field.default !== undefined) base.default = col.field.default;
    if (col.field.readOnly || col.system) base.readOnly = true;
    const alwaysSet = col.system ? col.name !== 'deleted_at' : false;
    properties[col.name] = alwaysSet ? base : nullable(base);
    if (alwaysSet) required.push(col.name);
  }
  for (const [name, c] of Object.entries(def.computed ?? {})) {
    properties[name] = { type: c.type, ...(c.items ? { items: c.items } : {}), readOnly: true, ...(c.description ? { description: c.description } : {}) };
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/** POST body: writable fields, required ones required, defaults filled by Ajv. */
export function createSchema(def: ResolvedDefinition): JsonSchema {
  const properties: JsonSchema = {};
  const required: string[] = [];
  for (const name of def.writableFields) {
    const field = def.fields[name];
    const base = valueSchema(field, true);
    if (field.default !== undefined) base.default = field.default;
    properties[name] = field.required ? base : nullable(base);
    if (field.required && !field.defaultFrom) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

/** PATCH/PUT body: only what is sent changes; required fields may not be cleared. */
export function updateSchema(def: ResolvedDefinition): JsonSchema {
  const properties: JsonSchema = {};
  for (const name of def.writableFields) {
    const field = def.fields[name];
    if (field.createOnly) continue;
    const base = valueSchema(field, true);
    properties[name] = field.required ? base : nullable(base);
  }
  if (def.versioned) {
    properties.base_version = { type: 'integer', minimum: 1, description: 'The version the change is based on; a stale one is rejected with 409.' };
  }
  // base_version is not `required` even when the definition demands it: If-Match may carry it
  // instead, so the update operation checks that one of the two is present.
  return { type: 'object', properties, additionalProperties: false };
}

/** Query parameter name for a filter: `status` for equality, `status[gte]` otherwise. */
export function filterParamName(field: string, op: FilterOperator): string {
  return op === 'eq' ? field : `${field}[${op}]`;
}

/** Every filter parameter of a list route with the schema of its (string-coerced) value. */
export function filterParams(def: ResolvedDefinition): { name: string; field: string; op: FilterOperator; schema: JsonSchema }[] {
  const out: { name: string; field: string; op: FilterOperator; schema: JsonSchema }[] = [];
  for (const col of def.columns) {
    if (def.parent?.field === col.name) continue; // fixed by the URL
    for (const op of filterOperators(col.field)) {
      let schema: JsonSchema;
      const value = valueSchema({ ...col.field, description: undefined, required: false });
      if (col.field.type === 'string[]') delete value.maxItems;
      const scalar = col.field.type === 'string[]' ? value.items : value;
      if (op === 'in') schema = { type: 'array', items: scalar, minItems: 1, maxItems: 100 };
      else if (op === 'null') schema = { type: 'boolean' };
      else if (op === 'like') schema = { type: 'string', minLength: 1, maxLength: 200 };
      else schema = scalar;
      out.push({ name: filterParamName(col.name, op), field: col.name, op, schema });
    }
  }
  return out;
}

/** The list route's query: paging, sorting, selection and every filter. Unknown keys are errors. */
export function listQuerySchema(def: ResolvedDefinition, registry?: Registry): JsonSchema {
  const properties: JsonSchema = {
    limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, description: `Page size (default ${DEFAULT_PAGE_SIZE}, max ${MAX_PAGE_SIZE}).` },
    offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, description: 'Rows to skip (offset mode).' },
    page: { type: 'integer', minimum: 1, maximum: MAX_PAGE, description: '1-based page number (alternative to offset).' },
    page_size: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, description: `Page size with page (default ${DEFAULT_PAGE_SIZE}, max ${MAX_PAGE_SIZE}).` },
    sort: { type: 'string', maxLength: 200, description: 'Comma-separated sortable fields; a leading - sorts descending.' },
    fields: { type: 'string', maxLength: 2000, description: 'Comma-separated fields to return (id is always returned).' },
    include: { type: 'string', maxLength: 200, description: 'Comma-separated relations to embed.' },
    include_archived: { type: 'boolean', description: 'Include archived (soft-deleted) records.' },
    after: { type: 'string', maxLength: 2000, description: 'Cursor from page_info.end_cursor: returns the next page by keyset.' },
    count: { type: 'boolean', description: 'With after: also return total_count.' },
  };
  if (!def.archivable) delete properties.include_archived;
  if (def.searchFields.length) {
    properties.search = { type: 'string', minLength: 1, maxLength: 200, description: `Case-insensitive match on ${def.searchFields.map((s) => s.name).join(', ')}.` };
  }
  for (const p of filterParams(def)) properties[p.name] = p.schema;
  for (const [name, rf] of Object.entries(def.relatedFilters ?? {})) {
    if (!registry) throw new Error(`the list query of '${def.name}' has related filters: it needs the registry`);
    const field = registry.get(rf.resource).fields[rf.field];
    properties[name] = { ...valueSchema({ ...field, description: undefined, required: false }), description: rf.description ?? `Records with a ${rf.resource.replace(/-/g, ' ')} whose \`${rf.field}\` is this value.` };
  }
  return { type: 'object', properties, additionalProperties: false };
}

/** The query of a single-record GET. */
export function getQuerySchema(def: ResolvedDefinition): JsonSchema {
  const properties: JsonSchema = {
    fields: { type: 'string', maxLength: 2000 },
    include: { type: 'string', maxLength: 200 },
  };
  if (def.archivable) properties.include_archived = { type: 'boolean' };
  return { type: 'object', properties, additionalProperties: false };
}
