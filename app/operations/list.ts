import { assertCan, canReadField, rowConditions } from '../auth/ability.js';
import { AppError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import { countLookup, readCount } from '../counts/read.js';
import { applyCustomFilters, customQueryChecker, type ValuesTable } from '../custom-fields/query.js';
import { encodeCustomCursor, fetchByCustomField } from '../custom-fields/sort.js';
import { customFieldsOf } from '../custom-fields/types.js';
import type { Runtime } from '../runtime.js';
import { encodeCursor } from './cursor.js';
import { compileListQuery, type ListQuery } from './list-query.js';
import { validationError } from '../core/errors.js';
import type { ListRuleResult } from '../core/plugin.js';
import { applyFilters, applyKeyset, applyRelated, applySearch, applySort } from './query-builder.js';
import { addComputed, assertParent, baseQuery, connection, embedRelations, humanName, modelQuery, presentedNames, presenterOf, type Row, type Scope } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';

export interface ListArgs extends ResourceArgs {
  /** The list query as a plain object: `{status: 'open', limit: '20', 'created_at[gte]': '…'}`. */
  query: Record<string, unknown>;
  /**
   * For nested resources read from another side (a patient's guardians are relationships whose
   * target it is): lists across every parent, leaving the parent check and term out. Operations
   * only; no route sets it.
   */
  acrossParents?: boolean;
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
  if (!def.counts?.length || q.related.length || q.search !== undefined || q.includeArchived || parentId !== undefined || !s.ctx.org || q.customFilters.length) return undefined;
  const orgId = s.ctx.org.id;
  const conditions = rowConditions(s.ctx.ability, 'read', def);
  if (!conditions || Object.entries(conditions).some(([column, values]) => column !== 'org_id' || !values.includes(orgId))) return undefined;
  const lookup = countLookup(def, q.filters, s.rt.db.dialect.uuidsIgnoreCase);
  return lookup ? readCount(s.rt.db.statements, connection(s), def.table, orgId, lookup) : undefined;
}

/** The write generation of several tables at once, or null when any of them may not be cached. */
async function combinedGeneration(rt: Runtime, tables: string[]): Promise<string | null> {
  if (tables.length === 1) return rt.generations.current(tables[0]);
  const parts = await Promise.all(tables.map((t) => rt.generations.current(t)));
  return parts.some((p) => p === null) ? null : parts.join('|');
}

/**
 * Checks the related filters of a list: the caller may read the related resource (the filter
 * tells which records have such rows), and a value of a ref field names a live record of the
 * organization, else 404 naming the parameter (seed 001 §3.4: a filter naming a missing tag
 * definition is a 404, not an empty list). Resolves to the related tables the list reads.
 */
async function checkRelated(s: Scope, def: ResolvedDefinition, q: ListQuery): Promise<string[]> {
  const tables: string[] = [];
  for (const r of q.related) {
    const rf = def.relatedFilters![r.name];
    const child = s.gen.registry.get(rf.resource);
    assertCan(s.ctx.ability, 'read', child, s.ctx.org?.id);
    tables.push(child.table);
    const ref = child.fields[rf.field].ref;
    if (!ref) continue;
    const target = s.gen.registry.get(ref);
    let sql = `select "id" from "${target.table}" where "id" = ?`;
    const params: unknown[] = [s.gen.codec(target.name).scalarToDb('id', r.value)];
    if (target.tenant) {
      sql += ' and "org_id" = ?';
      params.push(s.ctx.org!.id);
    }
    if (target.archivable) sql += ' and "deleted_at" is null';
    const [found] = await s.rt.db.statements.all(connection(s), `${sql} limit 1`, params);
    if (!found) {
      throw new AppError('not_found', `${humanName(target)} not found`, [{ path: `/query/${r.name}`, message: `no ${humanName(target).toLowerCase()} with id '${String(r.value)}'` }]);
    }
  }
  return [...new Set(tables)];
}

/** A decoded page as the page cache keeps it, with its rows serialized per field list shown. */
export interface CachedPage {
  rows: Row[];
  hasNext: boolean;
  /** `JSON.stringify` of the presented rows, by the presented field list. */
  serialized?: Map<string, string>;
  /** In custom field order: each row's value of that field (by id), for the cursor. */
  sortValues?: Map<unknown, unknown>;
}

/**
 * Plugin list rules take their own (boolean) parameters out of the query before the definition's
 * rules see it: the rest of the query, and each rule's given parameters.
 */
function takeRuleParams(rules: readonly { params?: Record<string, unknown> }[], raw: Record<string, unknown>): { query: Record<string, unknown>; ruleParams: Record<string, boolean>[] } {
  const query = { ...raw };
  const ruleParams = rules.map((rule) => {
    const given: Record<string, boolean> = {};
    for (const name of Object.keys(rule.params ?? {})) {
      if (!Object.hasOwn(query, name)) continue;
      const value = query[name];
      delete query[name];
      if (value !== 'true' && value !== 'false') throw validationError([{ path: `/query/${name}`, message: 'must be true or false' }]);
      given[name] = value === 'true';
    }
    return given;
  });
  return { query, ruleParams };
}

/**
 * Filtering or sorting on a field the caller may not read would reveal it (the sort order and
 * the cursor carry sort values); search simply skips such fields.
 */
function assertReadableFiltersAndSort(ctx: Scope['ctx'], def: ResolvedDefinition, q: ListQuery): void {
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
}

/** The list's rows already serialized as JSON, when the page came from the cache (the route splices them in). */
export const SERIALIZED_DATA = Symbol('serialized list data');

/**
 * Lists records: filters, search, sort, offset or keyset paging, relations embedded in batches.
 * A total that the definition's count keys hold is read from them; other totals and the decoded
 * page are cached per write generation of the table, so repeated requests over an unchanged
 * table neither recount nor re-read (nor build a query, nor serialize the page again for the
 * same fields shown), and any committed write invalidates both. Permissions, field selection
 * and read audit still apply on every request.
 */
export async function listRecords(rt: Runtime, args: ListArgs): Promise<ListResult> {
  const { s, def } = openScope(rt, args);
  const { ctx } = s;
  assertCan(ctx.ability, 'read', def, ctx.org?.id);
  const rules = rt.kernel.listRulesOf(def.name);
  const { query, ruleParams } = takeRuleParams(rules, args.query);
  const orgId = ctx.org?.id;
  const q = compileListQuery(def, s.gen.validators(def.name), query, def.customFields && {
    orgId,
    checker: () => s.gen.memo(`custom-field-query:${def.name}:${orgId}`, () => customQueryChecker(customFieldsOf(def, orgId))),
  });
  if (!args.acrossParents) await assertParent(s, def, args.parentId);
  const shaped: ListRuleResult[] = [];
  for (const [i, rule] of rules.entries()) {
    shaped.push(await rule.prepare({ ctx, parentId: args.parentId, params: ruleParams[i], filtered: q.filters.map((f) => f.field), query: (resource) => modelQuery(s, resource) }));
  }
  const ownParent = shaped.some((r) => r.replacesParent);
  assertReadableFiltersAndSort(ctx, def, q);
  const relatedTables = await checkRelated(s, def, q);
  const searchFields = def.searchFields.filter((f) => canReadField(ctx.ability, def, f.name));
  const codec = s.gen.codec(def.name);
  const dialect = rt.db.dialect;
  const searchIndexes = !!q.search && searchFields.every((f) => f.mode === 'prefix');
  // The rows a list reads, built anew for each query run (the count and the page each take one).
  // A list that reads custom field values depends on their table as well as its own.
  const valuesDef = (q.customFilters.length || q.customSort) && def.customFields ? s.gen.registry.get(def.customFields.values) : undefined;
  const values: ValuesTable | undefined = valuesDef && { table: valuesDef.table, recordColumn: valuesDef.parent!.field };
  const valuesCodec = valuesDef && s.gen.codec(valuesDef.name);
  const rowsQuery = () => {
    const qb = baseQuery(s, def, 'read', undefined, { parentId: ownParent ? undefined : args.parentId, includeArchived: q.includeArchived, searchIndexes });
    for (const r of shaped) r.where?.(qb);
    applyFilters(qb, def, q.filters, codec, dialect);
    if (q.related.length) applyRelated(qb, def, q.related, (name) => ({ def: s.gen.registry.get(name), codec: s.gen.codec(name) }));
    if (values && q.customFilters.length) applyCustomFilters(qb, def.table, values, q.customFilters, dialect, (c, v) => valuesCodec!.scalarToDb(c, v));
    if (q.search) applySearch(qb, def, q.search, dialect, searchFields);
    return qb;
  };
  // The cache keys name everything those queries are built from: the schema generation, the
  // organization and the caller's row conditions (baseQuery's terms), parent, archived, filters,
  // search and the fields it may search; the page adds sort, cursor, limit and offset. So a
  // cached answer is never built and compiled just to be looked up.
  const rowsKey = JSON.stringify([s.gen.version, ctx.org?.id ?? null, rowConditions(ctx.ability, 'read', def), args.parentId ?? null, q.includeArchived, q.filters, q.related, q.search ?? null, searchFields.map((f) => f.name), searchIndexes, ruleParams, q.customFilters.map((f) => [f.field.id, f.op, f.value])]);

  // One generation for the whole request: the total and the page describe the same table state.
  // Inside a caller's transaction nothing is cached: it may see its own uncommitted writes.
  // A rule whose rows depend on other tables (relatives' alerts) is not cached either. A list
  // whose answer depends on other tables too (related filters, custom field values) is cached
  // under every table it reads, with a generation that changes when any of them is written.
  const uncached = shaped.some((r) => r.uncached);
  const tables = [def.table, ...relatedTables, ...(values ? [values.table] : [])];
  const cacheTable = tables.join('+');
  const generation = ctx.transaction || uncached ? null : await combinedGeneration(rt, tables);
  let total: number | undefined;
  if (q.count) {
    if (!shaped.some((r) => r.where)) total = await totalFromCountKeys(s, def, q, args.parentId);
    if (total === undefined) {
      total = await rt.counts.through(cacheTable, generation, rowsKey, async () => Number((await rowsQuery().count({ n: '*' }).first()).n));
    }
  }

  const fetchPage = async (): Promise<CachedPage> => {
    if (q.customSort && values) {
      const page = await fetchByCustomField({
        conn: connection(s), table: def.table, values, sort: q.customSort, records: rowsQuery, limit: q.limit, offset: q.offset, after: q.after,
        toDb: (c, v) => valuesCodec!.scalarToDb(c, v),
        fromDb: (c, v) => valuesCodec!.fromDb({ [c]: v })[c],
      });
      const rows = page.rows.map((r) => codec.fromDb(r));
      addComputed(def, rows);
      return { rows, hasNext: page.hasNext, sortValues: page.sortValues };
    }
    const qb = rowsQuery();
    if (q.after) applyKeyset(qb, q.sort, q.after, codec);
    applySort(qb, q.sort, dialect);
    qb.limit(q.limit + 1);
    if (!q.after && q.offset) qb.offset(q.offset);
    const fetched = (await qb) as Row[];
    const hasNext = fetched.length > q.limit;
    const rows = (hasNext ? fetched.slice(0, q.limit) : fetched).map((r) => codec.fromDb(r));
    addComputed(def, rows);
    return { rows, hasNext };
  };
  // Embedding relations reads other tables (and writes into the rows), so such pages are not cached.
  const pageKey = `${rowsKey}|${JSON.stringify([q.sort, q.customSort ? [q.customSort.field.id, q.customSort.desc] : null, q.after ?? null, q.limit, q.after ? 0 : q.offset])}`;
  const page = q.include.length || uncached ? await fetchPage() : await rt.pages.through(cacheTable, generation, pageKey, fetchPage);
  const { rows, hasNext } = page;
  if (q.include.length) await embedRelations(s, def, rows, q.include);
  if (def.auditReads && rows.length) rt.audit.read(ctx, def, 'list', null, { ids: rows.map((r) => r.id) });

  const last = rows[rows.length - 1];
  const names = presentedNames(def, ctx, q.fields);
  const shape = presenterOf(names);
  // `data` is presented anew on every read (a caller may change what it gets); the HTTP route
  // takes the serialized form instead, kept with a cached page for each field list shown.
  const result = {} as ListResult;
  Object.defineProperty(result, 'data', { enumerable: true, configurable: true, get: () => rows.map(shape) });
  result.limit = q.limit;
  const endCursor = !last ? null : q.customSort ? encodeCustomCursor(q.customSort, last.id, page.sortValues?.get(last.id)) : encodeCursor(q.sort, last);
  result.page_info = { end_cursor: endCursor, has_next_page: hasNext };
  if (total !== undefined) result.total_count = total;
  if (!q.after) result.offset = q.offset;
  if (!q.include.length) {
    const fieldsKey = names.join(',');
    page.serialized ??= new Map();
    let json = page.serialized.get(fieldsKey);
    if (json === undefined) page.serialized.set(fieldsKey, (json = JSON.stringify(result.data)));
    Object.defineProperty(result, SERIALIZED_DATA, { value: json, enumerable: false });
  }
  return result;
}
