import { filterOperators } from '../core/define.js';
import { validationError, type ErrorDetail } from '../core/errors.js';
import type { FilterOperator, ResolvedDefinition } from '../core/types.js';
import { decodeCursor } from '../operations/cursor.js';
import { DEFAULT_LIMIT, type Filter, type ListQuery, type SortKey } from '../operations/list-query.js';
import { parseFields, parseInclude } from '../operations/records.js';
import type { DefinitionValidators } from '../schema/validators.js';

const PARAM = /^([a-z][a-z0-9_]*)(?:\[([a-z]+)\])?$/;

/**
 * Reads a raw query string into an object for the compiled query schema: repeated parameters are
 * an error (never silently last-wins) and `[in]` lists are split on commas.
 */
export function readQueryString(querystring: string): Record<string, unknown> {
  const params = new URLSearchParams(querystring);
  // No prototype: `__proto__`, `constructor` or `toString` are plain (unknown) parameters here.
  const out: Record<string, unknown> = Object.create(null);
  const repeated: ErrorDetail[] = [];
  for (const [key, value] of params) {
    if (Object.hasOwn(out, key)) {
      repeated.push({ path: `/query/${key}`, message: `'${key}' is given more than once` });
      continue;
    }
    out[key] = key.endsWith('[in]') ? value.split(',').map((v) => v.trim()).filter((v) => v !== '') : value;
  }
  if (repeated.length) throw validationError(repeated);
  return out;
}

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

/** Turns a validated list query object into the operation's ListQuery. */
export function parseListQuery(def: ResolvedDefinition, validators: DefinitionValidators, raw: Record<string, unknown>): ListQuery {
  const q = validators.listQuery(raw);
  const problems: ErrorDetail[] = [];
  if (q.limit !== undefined && q.page_size !== undefined) problems.push({ path: '/query/page_size', message: 'use either limit or page_size' });
  if (q.offset !== undefined && q.page !== undefined) problems.push({ path: '/query/page', message: 'use either offset or page' });
  if (q.after !== undefined && (q.offset !== undefined || q.page !== undefined)) problems.push({ path: '/query/after', message: 'a cursor cannot be combined with offset or page' });
  if (q.count !== undefined && q.after === undefined) problems.push({ path: '/query/count', message: 'applies only with after (offset pages always carry total_count)' });
  if (problems.length) throw validationError(problems);

  const limit = (q.limit ?? q.page_size ?? DEFAULT_LIMIT) as number;
  const offset = q.page !== undefined ? ((q.page as number) - 1) * limit : ((q.offset as number | undefined) ?? 0);
  const sort = parseSort(def, q.sort as string | undefined);

  const filters: Filter[] = [];
  for (const [key, value] of Object.entries(q)) {
    const m = PARAM.exec(key);
    if (!m) continue;
    const [, field, op = 'eq'] = m;
    const col = def.columns.find((c) => c.name === field);
    if (!col || !filterOperators(col.field).includes(op as FilterOperator)) continue; // paging/sort keys
    filters.push({ field, op: op as FilterOperator, value });
  }
  return {
    filters,
    search: q.search as string | undefined,
    sort,
    fields: parseFields(def, q.fields as string | undefined),
    include: parseInclude(def, q.include as string | undefined),
    includeArchived: q.include_archived === true,
    limit,
    offset,
    after: q.after !== undefined ? decodeCursor(q.after as string, sort, def) : undefined,
    count: q.after === undefined ? true : q.count === true,
  };
}
