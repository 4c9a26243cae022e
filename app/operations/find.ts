import type { Knex } from 'knex';
import { assertCan, canReadField } from '../auth/ability.js';
import type { FindSpec, FoundRows } from '../core/plugin.js';
import { parseInclude } from './list-query.js';
import { applySearch, applySort } from './query-builder.js';
import { addComputed, baseQuery, embedRelations, presenterOf, presentedNames, type Row, type Scope } from './records.js';

// The list-like reads of plugin actions (typeahead, duplicate checks, counts): the same scope
// terms as every list (organization, the caller's row conditions, archived records left out), the
// same prefix search over the indexes, the same field-level shaping and read audit, for
// conditions a list's query string cannot express.

/** A knex query over the rows of a resource the caller may read; `forbidden` without read access. */
export function readableRows(s: Scope, resource: string, trx?: Knex, opts: { searchIndexes?: boolean } = {}): Knex.QueryBuilder {
  const def = s.gen.registry.get(resource);
  assertCan(s.ctx.ability, 'read', def, s.ctx.org?.id);
  return baseQuery(s, def, 'read', trx, opts);
}

/** Reads rows for a plugin action, shaped to what the caller may see and audited like a list read. */
export async function findRecords(s: Scope, resource: string, spec: FindSpec, trx?: Knex, via?: string): Promise<FoundRows> {
  const def = s.gen.registry.get(resource);
  const { ctx } = s;
  // Only fields the caller may read are searched: a match on a hidden one would reveal it.
  const searchFields = spec.search ? def.searchFields.filter((f) => spec.search!.fields.includes(f.name) && canReadField(ctx.ability, def, f.name)) : [];
  for (const name of spec.search?.fields ?? []) {
    if (!def.searchFields.some((f) => f.name === name)) throw new Error(`'${name}' is not a searchable field of ${def.name}`);
  }
  const searchIndexes = !!spec.search && searchFields.every((f) => f.mode === 'prefix');
  const rowsQuery = () => {
    // baseQuery's builder is untyped; the query-builder helpers take any knex builder.
    const qb: any = readableRows(s, resource, trx, { searchIndexes });
    spec.where?.(qb);
    if (spec.search) applySearch(qb, def, spec.search.text, s.rt.db.dialect, searchFields);
    return qb;
  };
  let total: number | undefined;
  if (spec.count) total = Number((await rowsQuery().count({ n: '*' }).first()).n);
  const qb = rowsQuery();
  applySort(qb, (spec.sort ?? []).map((k) => ({ field: k.field, desc: !!k.desc })), s.rt.db.dialect);
  const codec = s.gen.codec(def.name);
  const rows = ((await qb.limit(spec.limit)) as Row[]).map((r) => codec.fromDb(r));
  addComputed(def, rows);
  if (spec.include?.length) await embedRelations({ ...s, ctx: trx ? { ...ctx, transaction: trx as Knex.Transaction } : ctx }, def, rows, parseInclude(def, spec.include.join(',')));
  if (spec.audit !== false && def.auditReads && rows.length) s.rt.audit.read(ctx, def, 'list', null, { ids: rows.map((r) => r.id), ...(via ? { via } : {}) });
  const shape = presenterOf(presentedNames(def, ctx, spec.fields ? [...spec.fields] : undefined));
  return { rows: rows.map(shape), ...(total !== undefined ? { total } : {}) };
}
