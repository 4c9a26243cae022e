import { validationError, type ErrorDetail } from '../core/errors.js';
import type { FilterOperator, ResolvedDefinition } from '../core/types.js';
import type { Dialect } from '../db/dialect.js';
import { compileQueryCheck } from '../schema/validators.js';
import type { WhereBuilder } from '../operations/query-builder.js';
import { VALUE_COLUMN, customFieldsOf, type CustomField, type CustomFieldType } from './types.js';
import { valueSchema } from './values.js';

// `?field.<key>[op]=` filters and `sort=field.<key>` on a definition with custom fields. Every
// condition is a subquery on the values table through its (field, value, record) index, so a
// filter or sort on a custom field costs about what one on an indexed column does.

export interface CustomFilter {
  field: CustomField;
  op: FilterOperator;
  value: unknown;
}

export interface CustomSort {
  field: CustomField;
  desc: boolean;
}

/** The operators each type allows (`eq` on a multi_select: holds the option; `in`: holds any). */
export const CUSTOM_OPERATORS: Readonly<Record<CustomFieldType, readonly FilterOperator[]>> = {
  text: ['eq', 'ne', 'in', 'like', 'null'],
  long_text: ['like', 'null'],
  select: ['eq', 'ne', 'in', 'null'],
  multi_select: ['eq', 'in', 'null'],
  number: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'null'],
  integer: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'null'],
  date: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'null'],
  boolean: ['eq', 'null'],
};

/** Custom fields of every type but long text and multi_select sort (a list has no order). */
export const isSortable = (field: CustomField) => field.type !== 'long_text' && field.type !== 'multi_select';

export const CUSTOM_PARAM = /^field\.([a-z][a-z0-9_]*)(?:\[([a-z]+)\])?$/;
export const customParamName = (key: string, op: FilterOperator) => (op === 'eq' ? `field.${key}` : `field.${key}[${op}]`);

/** The schema of a filter's value as it arrives in a URL (coerced from text). */
export function filterValueSchema(field: CustomField, op: FilterOperator): Record<string, unknown> {
  if (op === 'null') return { type: 'boolean' };
  if (op === 'like') return { type: 'string', minLength: 1, maxLength: 200 };
  const base = valueSchema({ ...field, name: '', help_text: null, description: null });
  const scalar: Record<string, unknown> = field.type === 'multi_select' ? { ...(base.items as object) } : { ...base, type: (base.type as string[])[0] };
  if (Array.isArray(scalar.enum)) scalar.enum = (scalar.enum as unknown[]).filter((v) => v !== null);
  delete scalar.description;
  return op === 'in' ? { type: 'array', items: scalar, minItems: 1, maxItems: 100 } : scalar;
}

/** The filters and sort of one organization's custom fields, compiled once per generation. */
export function customQueryChecker(fields: readonly CustomField[]): (params: Record<string, unknown>) => Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const field of fields) for (const op of CUSTOM_OPERATORS[field.type]) properties[customParamName(field.key, op)] = filterValueSchema(field, op);
  return compileQueryCheck({ type: 'object', properties, additionalProperties: false });
}

/**
 * Takes the `field.*` parameters and a custom sort out of a list query. Unknown keys, operators a
 * type does not allow and values of the wrong type are validation errors naming the parameter.
 */
export function extractCustomQuery(
  def: ResolvedDefinition,
  orgId: string | undefined,
  raw: Record<string, unknown>,
  checker: () => (params: Record<string, unknown>) => Record<string, unknown>,
): { rest: Record<string, unknown>; filters: CustomFilter[]; sort?: CustomSort } {
  // No prototype: a `__proto__` parameter stays a parameter (and an unknown one).
  const rest: Record<string, unknown> = Object.create(null);
  const params: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(raw)) (key.startsWith('field.') ? params : rest)[key] = value;
  const fields = customFieldsOf(def, orgId);
  const problems: ErrorDetail[] = [];
  const filters: CustomFilter[] = [];
  for (const name of Object.keys(params)) {
    const m = CUSTOM_PARAM.exec(name);
    const field = m ? fields.find((f) => f.key === m[1]) : undefined;
    if (!m || !field) problems.push({ path: `/query/${name}`, message: `unknown custom field '${m?.[1] ?? name.slice(6)}'` });
    else if (!CUSTOM_OPERATORS[field.type].includes((m[2] ?? 'eq') as FilterOperator)) {
      problems.push({ path: `/query/${name}`, message: `a ${field.type} field allows ${CUSTOM_OPERATORS[field.type].join(', ')}` });
    }
  }
  if (problems.length) throw validationError(problems);
  if (Object.keys(params).length) {
    const checked = checker()(params);
    for (const [name, value] of Object.entries(checked)) {
      const m = CUSTOM_PARAM.exec(name)!;
      filters.push({ field: fields.find((f) => f.key === m[1])!, op: (m[2] ?? 'eq') as FilterOperator, value });
    }
  }

  let sort: CustomSort | undefined;
  if (typeof rest.sort === 'string' && rest.sort.includes('field.')) {
    const parts = rest.sort.split(',').map((s) => s.trim()).filter(Boolean);
    const custom = parts.filter((p) => p.replace(/^-/, '').startsWith('field.'));
    const key = custom[0].replace(/^-/, '').slice('field.'.length);
    const field = fields.find((f) => f.key === key);
    if (custom.length !== 1 || parts.length !== 1) throw validationError([{ path: '/query/sort', message: 'a custom field sort is the only sort key (ties are broken by id)' }]);
    if (!field) throw validationError([{ path: '/query/sort', message: `unknown custom field '${key}'` }]);
    if (!isSortable(field)) throw validationError([{ path: '/query/sort', message: `a ${field.type} field cannot be sorted` }]);
    sort = { field, desc: custom[0].startsWith('-') };
    delete rest.sort;
  }
  return { rest, filters, sort };
}

/** The values table of a definition with custom fields, and the column pointing at the record. */
export interface ValuesTable {
  table: string;
  recordColumn: string;
}

const q = (name: string) => `"${name}"`;

/** The escaped LIKE pattern of a multi_select value holding `option`. */
function holds(option: string): string {
  return `%|${option.replace(/[\\%_]/g, '\\$&')}|%`;
}

/**
 * Adds each custom filter as `"<table>"."id" [not] in (select record from values where field = ?
 * and <value condition>)`. "Not equal" and "is null" keep records without a value, like the
 * native filters do.
 */
export function applyCustomFilters(qb: WhereBuilder, table: string, values: ValuesTable, filters: CustomFilter[], dialect: Dialect, toDb: (column: string, value: unknown) => unknown): void {
  for (const f of filters) {
    const column = VALUE_COLUMN[f.field.type];
    const c = q(column);
    const v = (x: unknown) => toDb(column, x);
    let condition: string;
    let bindings: unknown[];
    let negate = false;
    switch (f.op) {
      case 'eq':
        if (f.field.type === 'multi_select') [condition, bindings] = [`${c} like ? escape '\\'`, [holds(f.value as string)]];
        else [condition, bindings] = [`${c} = ?`, [v(f.value)]];
        break;
      case 'ne': [condition, bindings, negate] = [`${c} = ?`, [v(f.value)], true]; break;
      case 'gt': [condition, bindings] = [`${c} > ?`, [v(f.value)]]; break;
      case 'gte': [condition, bindings] = [`${c} >= ?`, [v(f.value)]]; break;
      case 'lt': [condition, bindings] = [`${c} < ?`, [v(f.value)]]; break;
      case 'lte': [condition, bindings] = [`${c} <= ?`, [v(f.value)]]; break;
      case 'in': {
        const list = f.value as unknown[];
        if (f.field.type === 'multi_select') [condition, bindings] = [`(${list.map(() => `${c} like ? escape '\\'`).join(' or ')})`, list.map((o) => holds(o as string))];
        else [condition, bindings] = [`${c} in (${list.map(() => '?').join(', ')})`, list.map(v)];
        break;
      }
      case 'like': {
        const raw = String(f.value);
        [condition, bindings] = [dialect.likeMatch(column), [raw.includes('%') ? raw : `%${raw}%`]];
        break;
      }
      case 'null': [condition, bindings, negate] = [`${c} is not null`, [], f.value === true]; break;
      default: throw new Error(`unhandled operator ${f.op}`);
    }
    qb.whereRaw(
      `${q(table)}."id" ${negate ? 'not in' : 'in'} (select ${q(values.recordColumn)} from ${q(values.table)} where "field_definition_id" = ? and ${condition})`,
      [f.field.id, ...bindings],
    );
  }
}
