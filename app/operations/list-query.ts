import { filterOperators } from '../core/define.js';
import { validationError, type ErrorDetail } from '../core/errors.js';
import { DEFAULT_PAGE_SIZE } from '../core/limits.js';
import type { DefinitionValidators } from '../core/schema-generation.js';
import type { FilterOperator, ResolvedDefinition } from '../core/types.js';
import { extractCustomQuery, type CustomFilter, type CustomSort } from '../custom-fields/query.js';
import { decodeCustomCursor } from '../custom-fields/sort.js';
import { decodeCursor } from './cursor.js';

export interface Filter {
  field: string;
  op: FilterOperator;
  value: unknown;
}

/** `?<name>=<value>` of a related filter the definition declares (RelatedFilter). */
export interface RelatedCondition {
  name: string;
  value: unknown;
}

export interface SortKey {
  field: string;
  desc: boolean;
}

/** A list request after every rule of the definition was checked; only compileListQuery makes one. */
export interface ListQuery {
  filters: Filter[];
  /** Related filters: records with a live related row holding the value. */
  related: RelatedCondition[];
  search?: string;
  sort: SortKey[];
  fields?: string[];
  include: string[];
  includeArchived: boolean;
  limit: number;
  offset: number;
  /** Keyset mode: the decoded cursor of the previous page. */
  after?: Cursor;
  /** Whether to compute total_count (always in offset mode; on request in keyset mode). */
  count: boolean;
  /** `?field.<key>[op]=` filters on the organization's custom fields. */
  customFilters: CustomFilter[];
  /** `sort=field.<key>`: then `sort` is empty and the cursor holds the custom field's value. */
  customSort?: CustomSort;
}

/** What a list of a definition with custom fields needs to read them: the organization's and a checker of their filters. */
export interface CustomQueryContext {
  orgId: string | undefined;
  checker: () => (params: Record<string, unknown>) => Record<string, unknown>;
}

export interface Cursor {
  /** The sort signature the cursor was made for (`last_name,-created_at`). */
  sort: string;
  values: unknown[];
  id: string;
}


const PARAM = /^([a-z][a-z0-9_]*)(?:\[([a-z]+)\])?$/;

function parseSort(def: ResolvedDefinition, raw: string | undefined): SortKey[] {
  const spec = raw ?? def.defaultSort;
  const keys: SortKey[] = [];
  const problems: ErrorDetail[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const desc = part.startsWith('-');
    const field = desc ? part.slice(1) : part;
    const col = def.columns.find((c) => c.name === field);
    if (!col) problems.push({ path: '/query/sort', message: `unknown field '${field}'` });
    else if (!col.field.sort && field !== 'id') problems.push({ path: '/query/sort', message: `'${field}' is not sortable` });
    else if (field !== 'id' && !keys.some((k) => k.field === field)) keys.push({ field, desc });
  }
  if (problems.length) throw validationError(problems);
  if (!keys.length) throw validationError([{ path: '/query/sort', message: 'names no field' }]);
  return keys;
}

/** Validates `?fields=` against what the resource returns. */
export function parseFields(def: ResolvedDefinition, raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = String(raw).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !def.outputFields.includes(n));
  if (unknown.length) {
    throw validationError(unknown.map((n) => ({ path: '/query/fields', message: `unknown field '${n}'` })));
  }
  return ['id', ...names.filter((n) => n !== 'id')];
}

/** Validates `?include=` against the declared relations. */
export function parseInclude(def: ResolvedDefinition, raw: unknown): string[] {
  if (!raw) return [];
  const names = [...new Set(String(raw).split(',').map((s) => s.trim()).filter(Boolean))];
  // Own keys only: `?include=constructor` must not find Object.prototype's.
  const unknown = names.filter((n) => !Object.hasOwn(def.belongsTo, n) && !Object.hasOwn(def.hasMany ?? {}, n));
  if (unknown.length) {
    const known = [...Object.keys(def.belongsTo), ...Object.keys(def.hasMany ?? {})];
    throw validationError(unknown.map((n) => ({ path: '/query/include', message: `unknown relation '${n}'${known.length ? ` (known: ${known.join(', ')})` : ''}` })));
  }
  return names;
}

/**
 * Compiles a plain query object (`{status: 'open', 'created_at[gte]': '2026-01-01', limit: '20'}`,
 * strings as from a URL or typed values) into a ListQuery, checking every rule of the definition:
 * known and filterable fields, allowed operators, value types, sortable fields, limit bounds,
 * relations, fields and the cursor. Every problem is a `validation_error` whose details name the
 * input (`/query/status`), whoever the caller is.
 */
export function compileListQuery(def: ResolvedDefinition, validators: DefinitionValidators, raw: Record<string, unknown>, custom?: CustomQueryContext): ListQuery {
  let customFilters: CustomFilter[] = [];
  let customSort: CustomSort | undefined;
  if (def.customFields && custom) {
    const extracted = extractCustomQuery(def, custom.orgId, raw, custom.checker);
    raw = extracted.rest;
    customFilters = extracted.filters;
    customSort = extracted.sort;
  }
  const q = validators.listQuery({ ...raw });
  const problems: ErrorDetail[] = [];
  if (q.limit !== undefined && q.page_size !== undefined) problems.push({ path: '/query/page_size', message: 'use either limit or page_size' });
  if (q.offset !== undefined && q.page !== undefined) problems.push({ path: '/query/page', message: 'use either offset or page' });
  if (q.after !== undefined && (q.offset !== undefined || q.page !== undefined)) problems.push({ path: '/query/after', message: 'a cursor cannot be combined with offset or page' });
  if (q.count !== undefined && q.after === undefined) problems.push({ path: '/query/count', message: 'applies only with after (offset pages always carry total_count)' });
  if (problems.length) throw validationError(problems);

  const limit = (q.limit ?? q.page_size ?? DEFAULT_PAGE_SIZE) as number;
  const offset = q.page !== undefined ? ((q.page as number) - 1) * limit : ((q.offset as number | undefined) ?? 0);
  const sort = customSort ? [] : parseSort(def, q.sort as string | undefined);

  const filters: Filter[] = [];
  const related: RelatedCondition[] = [];
  for (const [key, value] of Object.entries(q)) {
    if (def.relatedFilters && Object.hasOwn(def.relatedFilters, key)) {
      related.push({ name: key, value });
      continue;
    }
    const m = PARAM.exec(key);
    if (!m) continue;
    const [, field, op = 'eq'] = m;
    const col = def.columns.find((c) => c.name === field);
    if (!col || !filterOperators(col.field).includes(op as FilterOperator)) continue; // paging/sort keys
    filters.push({ field, op: op as FilterOperator, value });
  }
  return {
    filters,
    related,
    search: q.search as string | undefined,
    sort,
    fields: parseFields(def, q.fields),
    include: parseInclude(def, q.include),
    includeArchived: q.include_archived === true,
    limit,
    offset,
    after: q.after === undefined ? undefined : customSort ? decodeCustomCursor(q.after as string, customSort) : decodeCursor(q.after as string, sort, def),
    count: q.after === undefined ? true : q.count === true,
    customFilters,
    customSort,
  };
}
