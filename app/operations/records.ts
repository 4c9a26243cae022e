import type { Knex } from 'knex';
import { assertCan, rowConditions, type Action } from '../auth/ability.js';
import type { OperationContext } from '../core/context.js';
import { AppError, notFound } from '../core/errors.js';
import { isUuid } from '../core/ids.js';
import { buildModels } from '../db/models.js';
import { MAX_EMBEDDED_CHILDREN } from '../core/limits.js';
import type { SchemaGeneration } from '../core/schema-generation.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import { readableFor } from './context.js';

export type Row = Record<string, unknown>;

/** What every operation step needs: the runtime, the caller and the schema generation it runs on. */
export interface Scope {
  rt: Runtime;
  ctx: OperationContext;
  gen: SchemaGeneration;
}

/**
 * Where the scope's queries run: the caller's transaction when the operation joined one (SQLite
 * has a single connection, so a query beside an open transaction would wait for it forever).
 */
export function connection(s: Scope): Knex {
  return s.ctx.transaction ?? s.rt.db.knex;
}

export function assertUuid(id: string, what = 'id'): void {
  if (!isUuid(id)) throw new AppError('invalid_id', `'${String(id).slice(0, 100)}' is not a valid ${what}: ids are UUIDs`, [{ path: `/path/${what}`, message: 'must be a UUID' }]);
}

export function humanName(def: ResolvedDefinition): string {
  const words = def.name.split('-').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** One condition of a query: SQL with `?` placeholders, and its values. */
interface Term {
  sql: string;
  params: readonly unknown[];
}

/**
 * The one place tenancy is enforced: every read and write of a resource starts from these terms.
 * They limit rows to the context's organization, to the ability's row conditions, to the parent
 * record for nested resources, and (unless asked) to records that are not archived. `plus` is
 * written before the tenant terms (see the dialect's tenantTermPrefixForSearch).
 */
function scopeTerms(s: Scope, def: ResolvedDefinition, action: Action, opts: { parentId?: string; includeArchived?: boolean }, plus = ''): Term[] {
  const t = `"${def.table}"`;
  const terms: Term[] = [];
  if (def.tenant) {
    if (!s.ctx.org) throw new Error(`operation on tenant resource '${def.name}' without an organization`);
    terms.push({ sql: `${plus}${t}."org_id" = ?`, params: [s.ctx.org.id] });
  }
  const conditions = rowConditions(s.ctx.ability, action, def);
  if (conditions === null) throw new AppError('forbidden', `This key may not ${action} ${def.path}`);
  for (const [column, values] of Object.entries(conditions)) {
    terms.push({ sql: `${plus}${t}."${column}" in (${values.map(() => '?').join(', ')})`, params: values });
  }
  if (def.parent && opts.parentId) terms.push({ sql: `${t}."${def.parent.field}" = ?`, params: [opts.parentId] });
  if (def.archivable && !opts.includeArchived) terms.push({ sql: `${t}."deleted_at" is null`, params: [] });
  return terms;
}

/** A knex query over a resource, limited by its scope terms: the start of every list and embed. */
export function baseQuery(s: Scope, def: ResolvedDefinition, action: Action, trx?: Knex, opts: { parentId?: string; includeArchived?: boolean; searchIndexes?: boolean } = {}) {
  // Plain knex rather than the Objection model: the API reads rows, not model instances, and
  // instantiating a model per row costs more than the query on SQLite.
  const qb: any = (trx ?? connection(s))(def.table);
  const plus = opts.searchIndexes ? s.rt.db.dialect.tenantTermPrefixForSearch : '';
  for (const term of scopeTerms(s, def, action, opts, plus)) qb.whereRaw(term.sql, term.params);
  return qb;
}

/**
 * An Objection query over a resource, limited to the scope's organization and to records that are
 * not archived: the data access of plugins and hooks, with the relations their definitions declare
 * (`withGraphFetched('primary_provider')`). The API's own reads use plain knex (no model instances).
 */
export function modelQuery(s: Scope, resource: string, trx?: Knex) {
  const def = s.gen.registry.get(resource);
  const models = s.gen.memo('objection-models', () => buildModels(s.gen.registry, s.rt.db.knex));
  const q = models.get(resource)!.query(trx ?? connection(s));
  if (def.tenant) {
    if (!s.ctx.org) throw new Error(`query of tenant resource '${def.name}' without an organization`);
    q.where(`${def.table}.org_id`, s.ctx.org.id);
  }
  if (def.archivable) q.whereNull(`${def.table}.deleted_at`);
  return q;
}

/**
 * Reads one stored row (API form) or throws not_found; another org's row is simply not found.
 * The hottest read of all (every get, update, archive and parent check), so it is a prepared
 * statement rather than a knex query.
 */
export async function loadRow(s: Scope, def: ResolvedDefinition, id: string, opts: { trx?: Knex; parentId?: string; includeArchived?: boolean; action?: Action; forUpdate?: boolean } = {}): Promise<Row> {
  assertUuid(id);
  const terms = scopeTerms(s, def, opts.action ?? 'read', opts);
  const params: unknown[] = [];
  let where = '';
  for (const term of terms) {
    where += `${term.sql} and `;
    params.push(...term.params);
  }
  params.push(id);
  const lock = opts.forUpdate && s.rt.db.dialect.locksRowsForUpdate ? ' for update' : '';
  const sql = `select * from "${def.table}" where ${where}"${def.table}"."id" = ? limit 1${lock}`;
  const [row] = await s.rt.db.statements.all(opts.trx ?? connection(s), sql, params);
  if (!row) throw notFound(humanName(def));
  return s.gen.codec(def.name).fromDb(row);
}

/** The URL parameter naming a nested resource's parent id (`ticket_id`). */
export function parentParam(def: ResolvedDefinition): string {
  return `${def.parent!.resource.replace(/-/g, '_')}_id`;
}

/** Confirms a nested resource's parent exists and is visible to the caller. */
export async function assertParent(s: Scope, def: ResolvedDefinition, parentId: string | undefined, trx?: Knex): Promise<void> {
  if (!def.parent) return;
  if (parentId === undefined) throw new Error(`nested resource '${def.name}' needs its parent id`);
  const parentDef = s.gen.registry.get(def.parent.resource);
  assertUuid(parentId, parentParam(def));
  await loadRow(s, parentDef, parentId, { trx });
}

/** Adds computed fields, for a whole page at once. */
export function addComputed(def: ResolvedDefinition, rows: Row[]): void {
  if (!def.computed) return;
  const entries = Object.entries(def.computed);
  for (const row of rows) for (const [name, c] of entries) row[name] = c.compute(row);
}

const relationNamesCache = new WeakMap<ResolvedDefinition, string[]>();
function relationNames(def: ResolvedDefinition): string[] {
  let names = relationNamesCache.get(def);
  if (!names) relationNamesCache.set(def, (names = [...Object.keys(def.belongsTo), ...Object.keys(def.hasMany ?? {})]));
  return names;
}

/**
 * Shapes rows for the caller: only fields it may read (and asked for), in definition order, plus
 * embedded relations. The field list is worked out once, then applied to every row of a page.
 */
export function presenter(def: ResolvedDefinition, ctx: OperationContext, selected?: string[]): (row: Row) => Row {
  return presenterOf(presentedNames(def, ctx, selected));
}

/** Shapes rows to exactly these fields, in this order. */
export function presenterOf(names: readonly string[]): (row: Row) => Row {
  return (row) => {
    const out: Row = {};
    for (const name of names) if (row[name] !== undefined) out[name] = row[name];
    return out;
  };
}

/** The fields the caller is shown, in order: what a presented row can hold. */
export function presentedNames(def: ResolvedDefinition, ctx: OperationContext, selected?: string[]): string[] {
  const readable = readableFor(ctx, def);
  return [...(selected ?? def.outputFields).filter((n) => readable.has(n)), ...relationNames(def)];
}

export function present(def: ResolvedDefinition, ctx: OperationContext, row: Row, selected?: string[]): Row {
  return presenter(def, ctx, selected)(row);
}

/** Records embedded with `?include=` are read like any other: audited when their resource audits reads. */
function auditEmbeddedReads(s: Scope, def: ResolvedDefinition, rel: string, target: ResolvedDefinition, ids: string[]): void {
  if (!target.auditReads) return;
  for (const id of ids) s.rt.audit.read(s.ctx, target, 'read', id, { via: `${def.name}.${rel}` });
}

/**
 * Embeds relations for a page of rows with one query per relation (never one per row). The
 * embedded records obey the caller's abilities like any other read. A has-many relation embeds
 * at most MAX_EMBEDDED_CHILDREN children per record, oldest first; the rest are paged at the
 * children's own route.
 */
export async function embedRelations(s: Scope, def: ResolvedDefinition, rows: Row[], include: string[]): Promise<void> {
  const { ctx, gen } = s;
  for (const rel of include) {
    const belongs = def.belongsTo[rel];
    if (belongs) {
      const target = gen.registry.get(belongs.resource);
      assertCan(ctx.ability, 'read', target, ctx.org?.id);
      const ids = [...new Set(rows.map((r) => r[belongs.field]).filter((v): v is string => typeof v === 'string'))];
      const found = ids.length ? ((await baseQuery(s, target, 'read', undefined, { includeArchived: true }).whereIn(`${target.table}.id`, ids)) as Row[]) : [];
      const codec = gen.codec(target.name);
      const byId = new Map(found.map((r) => [r.id as string, codec.fromDb(r)]));
      addComputed(target, [...byId.values()]);
      auditEmbeddedReads(s, def, rel, target, [...byId.keys()]);
      const shape = presenter(target, ctx);
      for (const row of rows) {
        const hit = byId.get(row[belongs.field] as string);
        row[rel] = hit ? shape(hit) : null;
      }
      continue;
    }
    const many = def.hasMany![rel];
    const child = gen.registry.get(many.resource);
    assertCan(ctx.ability, 'read', child, ctx.org?.id);
    const ids = rows.map((r) => r.id as string);
    const codec = gen.codec(child.name);
    const children = ids.length ? await firstChildren(s, child, many.foreignKey, ids) : [];
    auditEmbeddedReads(s, def, rel, child, children.map((c) => c.id as string));
    const grouped = new Map<string, Row[]>();
    for (const c of children) {
      const decoded = codec.fromDb(c);
      const key = decoded[many.foreignKey] as string;
      if (!grouped.has(key)) grouped.set(key, []);
      grouped.get(key)!.push(decoded);
    }
    for (const row of rows) {
      const list = grouped.get(row.id as string) ?? [];
      addComputed(child, list);
      row[rel] = list.map(presenter(child, ctx));
    }
  }
}

/** The first MAX_EMBEDDED_CHILDREN children of each parent, in one windowed query. */
async function firstChildren(s: Scope, child: ResolvedDefinition, foreignKey: string, parentIds: string[]): Promise<Row[]> {
  const inner = baseQuery(s, child, 'read')
    .whereIn(`${child.table}.${foreignKey}`, parentIds)
    .select(`${child.table}.*`)
    .select(s.rt.db.knex.raw(`row_number() over (partition by "${child.table}"."${foreignKey}" order by "${child.table}"."created_at", "${child.table}"."id") as embed_rank`));
  const ranked = (await connection(s).from(inner.as('ranked')).where('embed_rank', '<=', MAX_EMBEDDED_CHILDREN).orderBy([{ column: 'created_at' }, { column: 'id' }])) as Row[];
  for (const r of ranked) delete r.embed_rank;
  return ranked;
}

/**
 * Checks that every reference in a write points at a record the caller can see in the same
 * organization: one query per referenced resource.
 */
export async function assertReferences(s: Scope, def: ResolvedDefinition, values: Row, trx: Knex): Promise<void> {
  const problems: { path: string; message: string }[] = [];
  for (const [name, field] of Object.entries(def.fields)) {
    if (!field.ref || name === def.parent?.field) continue;
    const value = values[name];
    if (typeof value !== 'string') continue;
    const target = s.gen.registry.get(field.ref);
    // Existence within the organization only: linking needs no read scope on the target.
    let sql = `select "id" from "${target.table}" where "id" = ?`;
    const params: unknown[] = [value];
    if (target.tenant) {
      sql += ' and "org_id" = ?';
      params.push(s.ctx.org!.id);
    }
    if (target.archivable) sql += ' and "deleted_at" is null';
    const [found] = await s.rt.db.statements.all(trx, `${sql} limit 1`, params);
    if (!found) problems.push({ path: `/body/${name}`, message: `no ${humanName(target).toLowerCase()} with id '${value}'` });
  }
  if (problems.length) throw new AppError('unprocessable', 'A referenced record does not exist', problems);
}
