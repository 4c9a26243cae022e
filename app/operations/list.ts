import { assertCan, canReadField } from '../auth/ability.js';
import { AppError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import type { OperationContext } from './context.js';
import { encodeCursor } from './cursor.js';
import type { ListQuery } from './list-query.js';
import { applyFilters, applyKeyset, applySearch, applySort } from './query-builder.js';
import { addComputed, assertParent, baseQuery, embedRelations, presenter, type Row } from './records.js';

export interface ListResult {
  data: Row[];
  total_count?: number;
  limit: number;
  offset?: number;
  page_info: { end_cursor: string | null; has_next_page: boolean };
}

/**
 * Lists records: filters, search, sort, offset or keyset paging, relations embedded in batches.
 * The exact total and the decoded page are cached per write generation of the table, so repeated
 * requests over an unchanged table neither recount nor re-read, and any committed write
 * invalidates both. Permissions, field selection and read audit still apply on every request.
 */
export async function listRecords(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, q: ListQuery, opts: { parentId?: string } = {}): Promise<ListResult> {
  assertCan(ctx.ability, 'read', def, ctx.org?.id);
  await assertParent(rt, def, ctx, opts.parentId);
  // Filtering or sorting on a field the caller may not read would reveal it (the sort order and
  // the cursor carry sort values); search simply skips such fields.
  for (const f of q.filters) {
    if (!canReadField(ctx.ability, def, f.field)) {
      throw new AppError('forbidden', `Filtering on '${f.field}' needs the '${def.scope}:sensitive' scope`);
    }
  }
  for (const k of q.sort) {
    if (!canReadField(ctx.ability, def, k.field)) {
      throw new AppError('forbidden', `Sorting on '${k.field}' needs the '${def.scope}:sensitive' scope`);
    }
  }
  const searchFields = def.searchFields.filter((s) => canReadField(ctx.ability, def, s.name));
  const codec = rt.codecs.get(def.name)!;
  const searchIndexes = !!q.search && searchFields.every((s) => s.mode === 'prefix');
  const qb = baseQuery(rt, def, ctx, 'read', undefined, { parentId: opts.parentId, includeArchived: q.includeArchived, searchIndexes });
  applyFilters(qb, def, q.filters, codec, rt.db.dialect);
  if (q.search) applySearch(qb, def, q.search, rt.db.dialect, searchFields);

  // One generation for the whole request: the total and the page describe the same table state.
  const generation = await rt.generations.current(def.table);
  let total: number | undefined;
  if (q.count) {
    const countQuery = qb.clone().count({ n: '*' }).first();
    total = await rt.counts.through(def.table, generation, countQuery, async () => Number((await countQuery).n));
  }

  if (q.after) applyKeyset(qb, q.sort, q.after, codec);
  applySort(qb, q.sort, rt.db.dialect);
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
  if (q.include.length) await embedRelations(rt, def, ctx, rows, q.include);
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
