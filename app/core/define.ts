import type {
  ColumnInfo,
  EntityDefinition,
  FieldDefinition,
  FilterOperator,
  ResolvedDefinition,
} from './types.js';

/** Declares a resource. Identity function with checking done by the registry at start. */
export function defineEntity<const T extends EntityDefinition>(definition: T): T {
  return definition;
}

const SNAKE = /^[a-z][a-z0-9_]*$/;
const KEBAB = /^[a-z][a-z0-9-]*$/;
const SYSTEM_FIELDS = ['id', 'org_id', 'version', 'created_at', 'updated_at', 'deleted_at'];
/** Query parameters the list route owns; a field may not shadow them. */
export const RESERVED_QUERY_PARAMS = [
  'limit', 'offset', 'page', 'page_size', 'sort', 'fields', 'include', 'include_archived',
  'search', 'after', 'count', 'base_version',
];

export const OPERATORS_BY_TYPE: Record<FieldDefinition['type'], readonly FilterOperator[]> = {
  string: ['eq', 'ne', 'in', 'like', 'null'],
  text: ['eq', 'ne', 'like', 'null'],
  integer: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'null'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'null'],
  boolean: ['eq', 'ne', 'null'],
  date: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'null'],
  datetime: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'null'],
  enum: ['eq', 'ne', 'in', 'null'],
  uuid: ['eq', 'ne', 'in', 'null'],
  json: [],
  'string[]': ['eq', 'null'],
};

export function filterOperators(field: FieldDefinition): readonly FilterOperator[] {
  if (!field.filter) return [];
  const allowed = OPERATORS_BY_TYPE[field.type];
  if (field.filter === true) return allowed;
  return field.filter.filter((op) => allowed.includes(op));
}

export function pascalCase(name: string): string {
  return name.split(/[-_]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

class DefinitionError extends Error {}

function fail(def: EntityDefinition | undefined, message: string): never {
  throw new DefinitionError(`definition ${def ? `'${def.name}'` : ''}: ${message}`);
}

/**
 * The engine-managed columns of a new row, as the definition declares them: a first version,
 * creation (and update) times, and an empty archive mark.
 */
export function systemColumns(def: EntityDefinition, now = new Date().toISOString()): Record<string, unknown> {
  const appendOnly = def.appendOnly ?? false;
  const out: Record<string, unknown> = {};
  if (def.versioned ?? !appendOnly) out.version = 1;
  out.created_at = now;
  if (!appendOnly) out.updated_at = now;
  if (def.archivable ?? !appendOnly) out.deleted_at = null;
  return out;
}

/** Most fields a count key may name: each one multiplies the rows a write may touch. */
export const MAX_COUNT_KEY_FIELDS = 3;
/**
 * Field types a count key may name: their SQL equality is exactly JavaScript's on the stored
 * value (strings may collate case-insensitively, numbers and dates compare by value, not text).
 */
const COUNTABLE_TYPES: readonly FieldDefinition['type'][] = ['enum', 'boolean', 'uuid', 'integer'];

function checkCounts(def: EntityDefinition): void {
  if (def.counts === undefined) return;
  if (!def.tenant) fail(def, 'counts are kept per organization: only tenant resources may declare them');
  if (def.internal || def.readOnlyResource) {
    fail(def, 'counts are kept by the write pipeline, which internal and read-only resources are written around');
  }
  if (!Array.isArray(def.counts) || !def.counts.every((k) => Array.isArray(k) && k.every((f) => typeof f === 'string'))) {
    fail(def, 'counts must be a list of field-name lists');
  }
  const seen = new Set<string>();
  for (const key of def.counts) {
    const shown = `[${key.join(', ')}]`;
    if (key.length > MAX_COUNT_KEY_FIELDS) fail(def, `count key ${shown} has more than ${MAX_COUNT_KEY_FIELDS} fields`);
    for (const [i, name] of key.entries()) {
      const field = Object.hasOwn(def.fields, name) ? def.fields[name] : undefined;
      if (!field) fail(def, `count key ${shown} names unknown field '${name}'`);
      if (!filterOperators(field).includes('eq')) fail(def, `count key ${shown}: field '${name}' must be filterable by equality (filter: true)`);
      if (!COUNTABLE_TYPES.includes(field.type)) {
        fail(def, `count key ${shown}: field '${name}' is of type ${field.type}; only ${COUNTABLE_TYPES.join(', ')} fields can be counted exactly`);
      }
      if (key.indexOf(name) !== i) fail(def, `count key ${shown} names '${name}' twice`);
    }
    // A list matches a key by its set of filtered fields, so order does not tell keys apart.
    const set = [...key].sort().join(',');
    if (seen.has(set)) fail(def, `count key ${shown} is declared twice`);
    seen.add(set);
  }
}

/** Field types a partial unique index may compare with a literal: exact on both databases. */
const INDEX_WHERE_TYPES: readonly FieldDefinition['type'][] = ['enum', 'boolean', 'integer'];

function checkIndexes(def: EntityDefinition, archivable: boolean): void {
  for (const idx of def.indexes ?? []) {
    const shown = `index [${idx.columns.join(', ')}]`;
    for (const name of idx.columns) {
      if (!Object.hasOwn(def.fields, name) && !SYSTEM_FIELDS.includes(name)) fail(def, `${shown} names unknown field '${name}'`);
    }
    if (!idx.unique && (idx.live || idx.where || idx.conflict)) fail(def, `${shown}: live, where and conflict apply to unique indexes only`);
    if (idx.live && !archivable) fail(def, `${shown} is unique among live records, but the resource is not archivable`);
    for (const [name, value] of Object.entries(idx.where ?? {})) {
      const field = Object.hasOwn(def.fields, name) ? def.fields[name] : undefined;
      if (!field) fail(def, `${shown}: where names unknown field '${name}'`);
      if (!INDEX_WHERE_TYPES.includes(field.type)) fail(def, `${shown}: where field '${name}' must be ${INDEX_WHERE_TYPES.join(', ')}`);
      const fits = field.type === 'enum' ? field.values!.includes(value as string) : field.type === 'boolean' ? typeof value === 'boolean' : Number.isInteger(value);
      if (!fits) fail(def, `${shown}: where value of '${name}' does not fit the field`);
    }
    if (idx.conflict && !(/^[a-z][a-z0-9_]*$/.test(idx.conflict.code) && idx.conflict.message)) fail(def, `${shown}: conflict needs a snake_case code and a message`);
  }
}

/** Applies defaults and derives column lists; throws a clear message on a malformed definition. */
export function resolveDefinition(def: EntityDefinition): ResolvedDefinition {
  if (!def.name || !KEBAB.test(def.name)) fail(def, `name must be kebab-case, got '${def.name}'`);
  if (!def.path || !KEBAB.test(def.path)) fail(def, `path must be a kebab-case URL segment, got '${def.path}'`);
  if (!def.table || !SNAKE.test(def.table)) fail(def, `table must be snake_case, got '${def.table}'`);
  if (!def.scope || !KEBAB.test(def.scope)) fail(def, `scope must be kebab-case, got '${def.scope}'`);
  const appendOnly = def.appendOnly ?? false;
  const versioned = def.versioned ?? !appendOnly;
  const archivable = def.archivable ?? !appendOnly;
  if (appendOnly && (versioned || archivable)) fail(def, 'an append-only resource cannot be versioned or archivable');
  const requireBaseVersion = def.requireBaseVersion ?? false;
  if (requireBaseVersion && !versioned) fail(def, 'requireBaseVersion needs a versioned resource');
  if (def.requireBaseVersionToArchive && !(versioned && archivable)) fail(def, 'requireBaseVersionToArchive needs a versioned, archivable resource');

  for (const [name, field] of Object.entries(def.fields)) {
    if (!SNAKE.test(name)) fail(def, `field '${name}' must be snake_case`);
    if (SYSTEM_FIELDS.includes(name)) fail(def, `field '${name}' is managed by the engine`);
    if (RESERVED_QUERY_PARAMS.includes(name)) fail(def, `field '${name}' would shadow a query parameter`);
    if (field.type === 'enum' && !field.values?.length) fail(def, `enum field '${name}' needs values`);
    if (field.fill && !field.readOnly) fail(def, `field '${name}' is filled by the engine, so it must be readOnly`);
    if (field.fill === 'now' && field.type !== 'datetime') fail(def, `field '${name}' is filled with the time, so it must be a datetime`);
    if (field.defaultFrom && !['string', 'text'].includes(field.type)) fail(def, `field '${name}' takes its default from the actor, so it must be textual`);
    if (field.defaultFrom && field.default !== undefined) fail(def, `field '${name}' cannot have both a default and a defaultFrom`);
    if (field.changedBy !== undefined && !KEBAB.test(field.changedBy)) fail(def, `field '${name}' names action '${field.changedBy}', which is not kebab-case`);
    if (field.createValues !== undefined && field.changedBy === undefined) fail(def, `field '${name}' lists createValues without a changedBy action`);
    if (field.createValues?.some((v) => field.values !== undefined && !field.values.includes(v as never))) fail(def, `field '${name}' lists createValues outside its values`);
    if (field.acceptsNumber && (field.type !== 'string' || !field.pattern)) fail(def, `field '${name}' accepts numbers, so it must be a string with a decimal pattern`);
    if (field.ref && field.type !== 'uuid') fail(def, `ref field '${name}' must be of type uuid`);
    if (field.relation && !field.ref) fail(def, `field '${name}' declares a relation without a ref`);
    if (field.search && !['string', 'text', 'string[]'].includes(field.type)) {
      fail(def, `search field '${name}' must be textual`);
    }
    if (field.sort && (field.type === 'json' || field.type === 'string[]')) fail(def, `field '${name}' cannot be sortable`);
    if (field.filter && filterOperators(field).length === 0) fail(def, `field '${name}' of type ${field.type} cannot be filtered`);
    if (field.default !== undefined && field.type === 'enum' && !field.values!.includes(String(field.default))) {
      fail(def, `default of '${name}' is not one of its values`);
    }
  }
  if (def.parent && !def.fields[def.parent.field]) fail(def, `parent field '${def.parent.field}' is not declared`);
  for (const [name, c] of Object.entries(def.computed ?? {})) {
    if (def.fields[name] || SYSTEM_FIELDS.includes(name)) fail(def, `computed '${name}' clashes with a field`);
    if ((c.type === 'array') !== (c.items !== undefined)) fail(def, `computed '${name}' needs items exactly when it is an array`);
  }
  checkCounts(def);
  checkIndexes(def, archivable);

  const system = (name: string, field: FieldDefinition): ColumnInfo => ({ name, field, system: true });
  const columns: ColumnInfo[] = [system('id', { type: 'uuid', readOnly: true, filter: ['eq', 'in'], description: 'Unique identifier (UUID v7).' })];
  if (def.tenant) columns.push(system('org_id', { type: 'uuid', readOnly: true }));
  for (const [name, field] of Object.entries(def.fields)) columns.push({ name, field, system: false });
  if (versioned) columns.push(system('version', { type: 'integer', readOnly: true, description: 'Optimistic concurrency version; starts at 1, +1 on each change.' }));
  columns.push(system('created_at', { type: 'datetime', readOnly: true, filter: true, sort: true, description: 'When the record was created.' }));
  if (!appendOnly) columns.push(system('updated_at', { type: 'datetime', readOnly: true, filter: true, sort: true, description: 'When the record last changed.' }));
  if (archivable) columns.push(system('deleted_at', { type: 'datetime', readOnly: true, description: 'Set when archived; null when active.' }));

  const defaultSort = def.defaultSort ?? '-created_at';
  const sortName = defaultSort.replace(/^-/, '');
  const sortCol = columns.find((c) => c.name === sortName);
  if (!sortCol || !sortCol.field.sort) fail(def, `defaultSort '${defaultSort}' is not a sortable field`);

  const belongsTo: ResolvedDefinition['belongsTo'] = {};
  for (const [name, field] of Object.entries(def.fields)) {
    if (field.ref && field.relation) belongsTo[field.relation] = { field: name, resource: field.ref };
  }
  for (const rel of Object.keys(def.hasMany ?? {})) {
    if (belongsTo[rel] || def.fields[rel]) fail(def, `relation '${rel}' is declared twice`);
  }

  return {
    ...def,
    subject: pascalCase(def.name),
    versioned,
    archivable,
    appendOnly,
    readOnlyResource: def.readOnlyResource ?? false,
    internal: def.internal ?? false,
    audited: def.audited ?? true,
    auditReads: def.auditReads ?? false,
    requireBaseVersion,
    defaultSort,
    columns,
    outputFields: [...columns.filter((c) => c.name !== 'org_id').map((c) => c.name), ...Object.keys(def.computed ?? {})],
    writableFields: Object.entries(def.fields).filter(([n, f]) => !f.readOnly && n !== def.parent?.field).map(([n]) => n),
    sensitiveFields: Object.entries(def.fields).filter(([, f]) => f.sensitive).map(([n]) => n),
    searchFields: Object.entries(def.fields).filter(([, f]) => f.search).map(([n, f]) => ({ name: n, mode: f.search! })),
    belongsTo,
  };
}

export { DefinitionError };
