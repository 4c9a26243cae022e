import type { ResolvedDefinition } from '../core/types.js';
import type { RecordCodec } from '../core/schema-generation.js';
import type { Dialect } from '../db/dialect.js';
import type { Cursor, Filter, RelatedCondition, SortKey } from './list-query.js';

/** The subset of the (knex or Objection) query builder these helpers use. */
export interface WhereBuilder {
  where(...args: any[]): any;
  whereRaw(sql: string, bindings?: readonly unknown[]): any;
  orWhereRaw(sql: string, bindings?: readonly unknown[]): any;
  whereIn(column: string, values: readonly unknown[]): any;
  whereNull(column: string): any;
  whereNotNull(column: string): any;
  orderByRaw(sql: string): any;
}

const col = (name: string) => `"${name}"`;

export function applyFilters(qb: WhereBuilder, def: ResolvedDefinition, filters: Filter[], codec: RecordCodec, dialect: Dialect): void {
  for (const f of filters) {
    const type = def.columns.find((c) => c.name === f.field)!.field.type;
    const c = col(f.field);
    if (type === 'string[]' && f.op === 'eq') {
      // Membership: the list holds this value.
      qb.whereRaw(dialect.arrayContains(f.field), [dialect.arrayMemberBinding(f.value)]);
      continue;
    }
    const v = (x: unknown) => codec.scalarToDb(f.field, x);
    switch (f.op) {
      case 'eq': qb.whereRaw(`${c} = ?`, [v(f.value)]); break;
      // "not equal" keeps rows where the field is empty: they are not equal to the value either.
      case 'ne': qb.whereRaw(`(${c} <> ? or ${c} is null)`, [v(f.value)]); break;
      case 'gt': qb.whereRaw(`${c} > ?`, [v(f.value)]); break;
      case 'gte': qb.whereRaw(`${c} >= ?`, [v(f.value)]); break;
      case 'lt': qb.whereRaw(`${c} < ?`, [v(f.value)]); break;
      case 'lte': qb.whereRaw(`${c} <= ?`, [v(f.value)]); break;
      case 'in': qb.whereIn(f.field, (f.value as unknown[]).map(v)); break;
      case 'null': if (f.value) qb.whereNull(f.field); else qb.whereNotNull(f.field); break;
      case 'like': {
        const raw = String(f.value);
        const pattern = raw.includes('%') ? raw : `%${raw}%`;
        qb.whereRaw(dialect.likeMatch(f.field), [pattern]);
        break;
      }
    }
  }
}

/**
 * Related filters as `exists` subqueries: a live row of the related resource, in the same
 * organization, pointing at the listed record and holding the value. Correlated on the listed
 * table's id, so an index on the related table's (org_id, foreign key) serves it, and paging,
 * counts and cursors apply to the filtered rows as to any other filter.
 */
export function applyRelated(qb: WhereBuilder, def: ResolvedDefinition, related: RelatedCondition[], target: (resource: string) => { def: ResolvedDefinition; codec: RecordCodec }): void {
  for (const [i, r] of related.entries()) {
    const rf = def.relatedFilters![r.name];
    const { def: child, codec } = target(rf.resource);
    const a = `"rel_${i}"`;
    const parent = `"${def.table}"`;
    const terms = [`${a}.${col(rf.foreignKey)} = ${parent}."id"`, `${a}.${col(rf.field)} = ?`];
    if (def.tenant) terms.unshift(`${a}."org_id" = ${parent}."org_id"`);
    if (child.archivable) terms.push(`${a}."deleted_at" is null`);
    qb.whereRaw(`exists (select 1 from "${child.table}" as ${a} where ${terms.join(' and ')})`, [codec.scalarToDb(rf.field, r.value)]);
  }
}

/**
 * `?search=`: every word must match at least one searchable field. Prefix fields compare the
 * indexed expression with `word%` (an index range scan); contains fields scan with `%word%`.
 */
export function applySearch(qb: WhereBuilder, def: ResolvedDefinition, search: string, dialect: Dialect, fields: ResolvedDefinition['searchFields'] = def.searchFields): void {
  const words = search.replace(/%/g, '').trim().split(/\s+/).filter(Boolean).slice(0, 5);
  for (const raw of words) {
    // `_` and `\` are matched literally, like every other character of the word.
    const word = raw.replace(/[\\_]/g, '\\$&');
    const parts: string[] = [];
    const bindings: string[] = [];
    // Only the fields the caller may read: matching on a hidden field would reveal its value.
    if (!fields.length) parts.push('1 = 0');
    for (const s of fields) {
      const isArray = def.fields[s.name].type === 'string[]';
      if (s.mode === 'prefix') {
        parts.push(`${dialect.searchExpression(s.name)} like ? escape '\\'`);
        bindings.push(dialect.prefixPattern(word));
      } else {
        parts.push(dialect.containsMatch(s.name, isArray));
        bindings.push(`%${word}%`);
      }
    }
    qb.whereRaw(`(${parts.join(' or ')})`, bindings);
  }
}

/** ORDER BY with the id as the last tie-breaker. Nulls sort as the smallest value on both databases. */
export function applySort(qb: WhereBuilder, sort: SortKey[], dialect: Dialect): void {
  const parts = sort.map((s) => dialect.orderTerm(s.field, s.desc));
  parts.push(`${col('id')} asc`);
  qb.orderByRaw(parts.join(', '));
}

/** Rows strictly after the cursor in the sort order: an OR of "equal so far, then after". */
export function applyKeyset(qb: WhereBuilder, sort: SortKey[], cursor: Cursor, codec: RecordCodec): void {
  const values = cursor.values.map((v, i) => codec.scalarToDb(sort[i].field, v));
  if (sort.every((s) => !s.desc) && values.every((v) => v !== null)) {
    // All ascending with no nulls at the cursor: a row-value comparison the index can range-scan.
    const cols = [...sort.map((s) => col(s.field)), col('id')].join(', ');
    qb.whereRaw(`(${cols}) > (${[...values, cursor.id].map(() => '?').join(', ')})`, [...values, cursor.id]);
    return;
  }
  const branches: { sql: string; bindings: unknown[] }[] = [];
  const equalSoFar: { sql: string; bindings: unknown[] }[] = [];
  const keys = [...sort.map((s, i) => ({ field: s.field, desc: s.desc, value: values[i] })), { field: 'id', desc: false, value: cursor.id as unknown }];
  for (const k of keys) {
    const c = col(k.field);
    let after: { sql: string; bindings: unknown[] } | null;
    if (k.value === null) after = k.desc ? null : { sql: `${c} is not null`, bindings: [] };
    else after = k.desc ? { sql: `(${c} < ? or ${c} is null)`, bindings: [k.value] } : { sql: `${c} > ?`, bindings: [k.value] };
    if (after) {
      const parts = [...equalSoFar, after];
      branches.push({ sql: parts.map((p) => p.sql).join(' and '), bindings: parts.flatMap((p) => p.bindings) });
    }
    equalSoFar.push(k.value === null ? { sql: `${c} is null`, bindings: [] } : { sql: `${c} = ?`, bindings: [k.value] });
  }
  if (!branches.length) {
    qb.whereRaw('1 = 0');
    return;
  }
  qb.whereRaw(`(${branches.map((b) => `(${b.sql})`).join(' or ')})`, branches.flatMap((b) => b.bindings));
}
