import type { Knex } from 'knex';
import { AppError, notFound, validationError } from '../core/errors.js';
import { isUuid } from '../core/ids.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import { assertCan, rowConditions, type Action } from '../auth/ability.js';
import { readableFor, type OperationContext } from './context.js';

export type Row = Record<string, unknown>;


export function assertUuid(id: string, what = 'id'): void {
  if (!isUuid(id)) throw new AppError('invalid_id', `'${id}' is not a valid ${what}: ids are UUIDs`, [{ path: `/path/${what}`, message: 'must be a UUID' }]);
}

export function humanName(def: ResolvedDefinition): string {
  const words = def.name.split('-').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The one place tenancy is enforced: every read and write of a resource starts here. It limits
 * rows to the context's organization, to the ability's row conditions, to the parent record for
 * nested resources, and (unless asked) to records that are not archived.
 */
export function baseQuery(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, action: Action, trx?: Knex, opts: { parentId?: string; includeArchived?: boolean; searchIndexes?: boolean } = {}) {
  // Plain knex rather than the Objection model: the API reads rows, not model instances, and
  // instantiating a model per row costs more than the query on SQLite.
  const qb: any = (trx ?? rt.db.knex)(def.table);
  // For an indexed prefix search on SQLite, the tenant terms are written `+col` so the planner
  // leaves the org index alone and probes each search field's NOCASE index (a MULTI-INDEX OR);
  // the org terms still filter every row.
  const plus = opts.searchIndexes && rt.db.dialect === 'sqlite' ? '+' : '';
  if (def.tenant) {
    if (!ctx.org) throw new Error(`operation on tenant resource '${def.name}' without an organization`);
    qb.whereRaw(`${plus}"${def.table}"."org_id" = ?`, [ctx.org.id]);
  }
  const conditions = rowConditions(ctx.ability, action, def);
  if (conditions === null) throw new AppError('forbidden', `This key may not ${action} ${def.path}`);
  for (const [column, values] of Object.entries(conditions)) {
    qb.whereRaw(`${plus}"${def.table}"."${column}" in (${values.map(() => '?').join(', ')})`, values);
  }
  if (def.parent && opts.parentId) qb.where(`${def.table}.${def.parent.field}`, opts.parentId);
  if (def.archivable && !opts.includeArchived) qb.whereNull(`${def.table}.deleted_at`);
  return qb;
}

/** Reads one stored row (API form) or throws not_found; another org's row is simply not found. */
export async function loadRow(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, id: string, opts: { trx?: Knex; parentId?: string; includeArchived?: boolean; action?: Action; forUpdate?: boolean } = {}): Promise<Row> {
  assertUuid(id);
  const qb = baseQuery(rt, def, ctx, opts.action ?? 'read', opts.trx, opts).where(`${def.table}.id`, id).first();
  if (opts.forUpdate && rt.db.dialect === 'postgres') qb.forUpdate();
  const row = (await qb) as Row | undefined;
  if (!row) throw notFound(humanName(def));
  return rt.codecs.get(def.name)!.fromDb(row);
}

/** Confirms a nested resource's parent exists and is visible to the caller. */
export async function assertParent(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, parentId: string | undefined, trx?: Knex): Promise<void> {
  if (!def.parent) return;
  if (!parentId) throw new Error(`nested resource '${def.name}' needs its parent id`);
  const parentDef = rt.registry.get(def.parent.resource);
  assertUuid(parentId, `${def.parent.resource.replace(/-/g, '_')}_id`);
  await loadRow(rt, parentDef, ctx, parentId, { trx });
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
  const readable = readableFor(ctx, def);
  const names = [...(selected ?? def.outputFields).filter((n) => readable.has(n)), ...relationNames(def)];
  return (row) => {
    const out: Row = {};
    for (const name of names) if (row[name] !== undefined) out[name] = row[name];
    return out;
  };
}

export function present(def: ResolvedDefinition, ctx: OperationContext, row: Row, selected?: string[]): Row {
  return presenter(def, ctx, selected)(row);
}

/** Validates `?fields=` against what the resource returns. */
export function parseFields(def: ResolvedDefinition, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !def.outputFields.includes(n));
  if (unknown.length) {
    throw validationError(unknown.map((n) => ({ path: '/query/fields', message: `unknown field '${n}'` })));
  }
  return ['id', ...names.filter((n) => n !== 'id')];
}

/** Validates `?include=` against the declared relations. */
export function parseInclude(def: ResolvedDefinition, raw: string | undefined): string[] {
  if (!raw) return [];
  const names = [...new Set(raw.split(',').map((s) => s.trim()).filter(Boolean))];
  // Own keys only: `?include=constructor` must not find Object.prototype's.
  const unknown = names.filter((n) => !Object.hasOwn(def.belongsTo, n) && !Object.hasOwn(def.hasMany ?? {}, n));
  if (unknown.length) {
    const known = [...Object.keys(def.belongsTo), ...Object.keys(def.hasMany ?? {})];
    throw validationError(unknown.map((n) => ({ path: '/query/include', message: `unknown relation '${n}'${known.length ? ` (known: ${known.join(', ')})` : ''}` })));
  }
  return names;
}

/** Records embedded with `?include=` are read like any other: audited when their resource audits reads. */
function auditEmbeddedReads(rt: Runtime, ctx: OperationContext, def: ResolvedDefinition, rel: string, target: ResolvedDefinition, ids: string[]): void {
  if (!target.auditReads) return;
  for (const id of ids) rt.audit.read(ctx, target, 'read', id, { via: `${def.name}.${rel}` });
}

/**
 * Embeds relations for a page of rows with one query per relation (never one per row). The
 * embedded records obey the caller's abilities like any other read.
 */
export async function embedRelations(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, rows: Row[], include: string[]): Promise<void> {
  for (const rel of include) {
    const belongs = def.belongsTo[rel];
    if (belongs) {
      const target = rt.registry.get(belongs.resource);
      assertCan(ctx.ability, 'read', target, ctx.org?.id);
      const ids = [...new Set(rows.map((r) => r[belongs.field]).filter((v): v is string => typeof v === 'string'))];
      const found = ids.length ? ((await baseQuery(rt, target, ctx, 'read', undefined, { includeArchived: true }).whereIn(`${target.table}.id`, ids)) as Row[]) : [];
      const codec = rt.codecs.get(target.name)!;
      const byId = new Map(found.map((r) => [r.id as string, codec.fromDb(r)]));
      addComputed(target, [...byId.values()]);
      auditEmbeddedReads(rt, ctx, def, rel, target, [...byId.keys()]);
      const shape = presenter(target, ctx);
      for (const row of rows) {
        const hit = byId.get(row[belongs.field] as string);
        row[rel] = hit ? shape(hit) : null;
      }
      continue;
    }
    const many = def.hasMany![rel];
    const child = rt.registry.get(many.resource);
    assertCan(ctx.ability, 'read', child, ctx.org?.id);
    const ids = rows.map((r) => r.id as string);
    const codec = rt.codecs.get(child.name)!;
    const children = ids.length
      ? ((await baseQuery(rt, child, ctx, 'read').whereIn(`${child.table}.${many.foreignKey}`, ids).orderBy([{ column: `${child.table}.created_at` }, { column: `${child.table}.id` }])) as Row[])
      : [];
    auditEmbeddedReads(rt, ctx, def, rel, child, children.map((c) => c.id as string));
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

/**
 * Checks that every reference in a write points at a record the caller can see in the same
 * organization: one query per referenced resource.
 */
export async function assertReferences(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, values: Row, trx: Knex): Promise<void> {
  const problems: { path: string; message: string }[] = [];
  for (const [name, field] of Object.entries(def.fields)) {
    if (!field.ref || name === def.parent?.field) continue;
    const value = values[name];
    if (typeof value !== 'string') continue;
    const target = rt.registry.get(field.ref);
    // Existence within the organization only: linking needs no read scope on the target.
    const q = trx(target.table).where('id', value).select('id').first();
    if (target.tenant) q.where('org_id', ctx.org!.id);
    if (target.archivable) q.whereNull('deleted_at');
    const found = await q;
    if (!found) problems.push({ path: `/body/${name}`, message: `no ${humanName(target).toLowerCase()} with id '${value}'` });
  }
  if (problems.length) throw new AppError('unprocessable', 'A referenced record does not exist', problems);
}
