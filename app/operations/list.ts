import { assertCan, canReadField, rowConditions } from '../auth/ability.js';
import { AppError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import { countLookup, readCount } from '../counts/read.js';
import type { Runtime } from '../runtime.js';
import { encodeCursor } from './cursor.js';
import { compileListQuery, type ListQuery } from './list-query.js';
import { applyFilters, applyKeyset, applySearch, applySort } from './query-builder.js';
import { addComputed, assertParent, baseQuery, connection, embedRelations, presenter, type Row, type Scope } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';

export interface ListArgs extends ResourceArgs {
  /** The list query as a plain object: `{status: 'open', limit: '20', 'created_at[gte]': '…'}`. */
  query: Record<string, unknown>;
}

export interface ListResult {
  data: Row[];
  total_count?: number;
  limit: number;
  offset?: number;
  page_info: { end_cursor: string | null; has_next_page: boolean };
}

/**
 * The total of a list from the definition's count keys, kept exact in every write's transaction,
 * or undefined when they cannot answer it: only for the live records of one organization with
 * equality filters on exactly one key's fields, no search, no parent and no row condition of the
 * caller's but the organization's. Read on the scope's connection, so inside a caller's
 * transaction it includes that transaction's own writes, as a count of the rows would.
 */
async function totalFromCountKeys(s: Scope, def: ResolvedDefinition, q: ListQuery, parentId: string | undefined): Promise<number | undefined> {
  if (!def.counts?.length || q.search !== undefined || q.includeArchived || parentId !== undefined || !s.ctx.org) return undefined;
  const orgId = s.ctx.org.id;
  const conditions = rowConditions(s.ctx.ability, 'read', def);
  if (!conditions || Object.entries(conditions).some(([column, values]) => column !== 'org_id' || !values.includes(orgId))) return undefined;
  const lookup = countLookup(def, q.filters, s.rt.db.dialect.uuidsIgnoreCase);
  return lookup ? readCount(s.rt.db.statements, connection(s), def.table, orgId, lookup) : undefined;
}

/**
 * Lists records: filters, search, sort, offset or keyset paging, relations embedded in batches.
 * A total that the definition's count keys hold is read from them; other totals and the decoded
 * page are cached per write generation of the table, so repeated requests over an unchanged
 * table neither recount nor re-read, and any committed write invalidates both. Permissions,
 * field selection and read audit still apply on every request.
 */
export async function listRecords(rt: Runtime, args: ListArgs): Promise<ListResult> {
  const { s, def } = openScope(rt, args);
  const { ctx } = s;
  assertCan(ctx.ability, 'read', def, ctx.org?.id);
  const q = compileListQuery(def, s.gen.validators(def.name), args.query);
  await assertParent(s, def, args.parentId);
  // Filtering or sorting on a field the caller may not read would reveal it (the sort order and
  // the cursor carry sort values); search simply skips such fields.
  for (const f of q.filters) {
    if (!canReadField(ctx.ability, def, f.field)) {
      throw new AppError('forbidden', `Filtering on '${f.field}' needs the '${def.scope}:sensitive' scope`, [{ path: `/query/${f.field}`, message: 'needs the sensitive scope' }]);
    }
  }
  for (const k of q.sort) {
    if (!canReadField(ctx.ability, def, k.field)) {
      throw new AppError('forbidden', `Sorting on '${k.field}' needs the '${def.scope}:sensitive' scope`, [{ path: '/query/sort', message: `'${k.field}' needs the sensitive scope` }]);
    }
  }
  const searchFields = def.searchFields.filter((f) => canReadField(ctx.ability, def, f.name));
  const codec = s.gen.codec(def.name);
  const dialect = rt.db.dialect;
  const searchIndexes = !!q.search && searchFields.every((f) => f.mode === 'prefix');
  const qb = baseQuery(s, def, 'read', undefined, { parentId: args.parentId, includeArchived: q.includeArchived, searchIndexes });
  applyFilters(qb, def, q.filters, codec, dialect);
  if (q.search) applySearch(qb, def, q.search, dialect, searchFields);

  // One generation for the whole request: the total and the page describe the same table state.
  // Inside a caller's transaction nothing is cached: it may see its own uncommitted writes.
  const generation = ctx.transaction ? null : await rt.generations.current(def.table);
  let total: number | undefined;
  if (q.count) {
    total = await totalFromCountKeys(s, def, q, args.parentId);
    if (total === undefined) {
      const countQuery = qb.clone().count({ n: '*' }).first();
      total = await rt.counts.through(def.table, generation, countQuery, async () => Number((await countQuery).n));
    }
  }

  if (q.after) applyKeyset(qb, q.sort, q.after, codec);
  applySort(qb, q.sort, dialect);
  qb.limit(q.limit + 1);
  if (!q.after && q.offset) qb.offset(q.offset);
  const fetchPage = async () => {
    const fetched = (await qb) as Row[];
    const hasNext = fetched.length > q.limit;
    const rows = (hasNext ? fetched.slice(0, q.limit) : fetched).map((r) => codec.fromDb(r));
    addComputed(def, rows);
    return { rows, hasNext };
  };
  // Embedding relations reads other tables (and writes into the rows), so such pages are not cached.
  const { rows, hasNext } = q.include.length ? await fetchPage() : await rt.pages.through(def.table, generation, qb, fetchPage);
  if (q.include.length) await embedRelations(s, def, rows, q.include);
  if (def.auditReads && rows.length) rt.audit.read(ctx, def, 'list', null, { ids: rows.map((r) => r.id) });

  const last = rows[rows.length - 1];
  const result: ListResult = {
    data: rows.map(presenter(def, ctx, q.fields)),
    limit: q.limit,
    page_info: { end_cursor: last ? encodeCursor(q.sort, last) : null, has_next_page: hasNext },
  };
  if (total !== undefined) result.total_count = total;
  if (!q.after) result.offset = q.offset;
  return result;
}
