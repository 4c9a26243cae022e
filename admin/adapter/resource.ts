import { BaseRecord, BaseResource, flat, ForbiddenError, NotFoundError, ValidationError, type ActionContext, type Filter, type ParamsType } from 'adminjs';
import { filterOperators } from '../../app/core/define.js';
import { AppError } from '../../app/core/errors.js';
import type { Org } from '../../app/core/context.js';
import type { ResolvedDefinition } from '../../app/core/types.js';
import { archiveRecord } from '../../app/operations/archive.js';
import { createRecord } from '../../app/operations/create.js';
import { getRecord } from '../../app/operations/get.js';
import { listRecords } from '../../app/operations/list.js';
import type { Row } from '../../app/operations/records.js';
import { updateRecord } from '../../app/operations/update.js';
import { sameValue } from '../../app/audit/audit-writer.js';
import { MAX_PAGE_SIZE } from '../../app/core/limits.js';
import type { Runtime } from '../../app/runtime.js';
import { adminScope, locate, operationContext, pickOrg, type AdminScope } from '../scope.js';
import type { SessionAdmin } from '../users.js';
import { isFilterable, ORGANIZATION_PROPERTY, propertiesOf, type DefinitionProperty } from './property.js';

// An AdminJS resource over one definition. Every read and write goes through the kernel's
// operations with the admin user's context, so validation, tenancy, versions, audit and events
// apply exactly as for an API call; nothing here touches a table except to find where a record
// lives (scope.ts locate).

/** What AdminJS is given as a "raw resource"; the adapter's isAdapterFor recognizes it. */
export class DefinitionSource {
  constructor(readonly rt: Runtime, readonly name: string) {}
}

export class DefinitionResource extends BaseResource {
  private readonly rt: Runtime;
  private readonly def: ResolvedDefinition;
  private readonly props: DefinitionProperty[];

  static isAdapterFor(raw: unknown): boolean {
    return raw instanceof DefinitionSource;
  }

  constructor(source: DefinitionSource) {
    super(source);
    this.rt = source.rt;
    this.def = source.rt.registry.get(source.name);
    this.props = propertiesOf(this.def, new Set(source.rt.registry.exposed().map((d) => d.name)));
  }

  databaseName(): string {
    return 'emr';
  }

  databaseType(): string {
    return 'emr-operations';
  }

  id(): string {
    return this.def.name;
  }

  properties(): DefinitionProperty[] {
    return this.props;
  }

  property(path: string): DefinitionProperty | null {
    return this.props.find((p) => p.path() === path) ?? null;
  }

  async count(filter: Filter, context?: ActionContext): Promise<number> {
    const { total } = await this.list(filter, { limit: 1, offset: 0 }, context);
    return total;
  }

  async find(filter: Filter, options: { limit?: number; offset?: number; sort?: { sortBy?: string; direction?: 'asc' | 'desc' } }, context?: ActionContext): Promise<BaseRecord[]> {
    const { records } = await this.list(filter, options, context);
    return records;
  }

  async findOne(id: string, context?: ActionContext): Promise<BaseRecord | null> {
    const scope = await this.scope(context);
    if (!scope.ability.can('read', this.def.subject)) throw new ForbiddenError(`This admin user may not read ${this.def.path}`);
    const row = await this.load(scope, String(id), context);
    return row ? new BaseRecord(row.params, this) : null;
  }

  async findMany(ids: (string | number)[], context?: ActionContext): Promise<BaseRecord[]> {
    const scope = await this.scope(context);
    // A resource the user may not read at all (a support agent and a ticket's patient) shows no
    // referenced records rather than failing the page that refers to them.
    if (!scope.ability.can('read', this.def.subject)) return [];
    const rows = await Promise.all([...new Set(ids.map(String))].map((id) => this.load(scope, id, context)));
    return rows.filter((r) => r !== null).map((r) => new BaseRecord(r!.params, this));
  }

  build(params: Record<string, unknown>): BaseRecord {
    return new BaseRecord(params, this);
  }

  async create(params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const scope = await this.scope(context);
    const values = this.bodyFrom(params);
    const org = this.def.tenant ? this.run(() => Promise.resolve(pickOrg(scope, params[ORGANIZATION_PROPERTY]))) : undefined;
    let parentId: string | undefined;
    if (this.def.parent) {
      parentId = values[this.def.parent.field] as string | undefined;
      delete values[this.def.parent.field];
      if (!parentId) throw new ValidationError({ [this.def.parent.field]: { message: 'is required', type: 'required' } });
    }
    const body: Row = {};
    for (const [k, v] of Object.entries(values)) if (v !== null) body[k] = v;
    const where = await org;
    const row = await this.run(() => createRecord(this.rt, { resource: this.def.name, ctx: this.ctx(scope, where, context), body, parentId }));
    return this.toParams(row, where);
  }

  async update(id: string, params: Record<string, unknown>, context?: ActionContext): Promise<ParamsType> {
    const scope = await this.scope(context);
    const where = await locate(this.rt, scope, this.def, id);
    if (!where) throw new NotFoundError(`${this.def.name} ${id} not found`, 'update');
    const requested = params[ORGANIZATION_PROPERTY];
    if (where.org && requested !== undefined && requested !== '' && requested !== where.org.slug && requested !== where.org.id) {
      throw new ValidationError({ [ORGANIZATION_PROPERTY]: { type: 'unprocessable', message: 'A record stays in its organization' } });
    }
    const ctx = this.ctx(scope, where.org, context);
    const current = await this.run(() => getRecord(this.rt, { resource: this.def.name, ctx, id, parentId: where.parentId }));
    const values = this.bodyFrom(params);
    if (this.def.parent) delete values[this.def.parent.field];
    // Only what the form changed is sent: a field the admin did not touch (one a plugin action
    // owns, a create-only one) is then not refused, and an unchanged record keeps its version.
    const body: Row = {};
    for (const [k, v] of Object.entries(values)) if (!sameValue(current[k] ?? null, v)) body[k] = v;
    // The version the form was loaded with: a record changed since is refused, never overwritten.
    const loaded = params.version;
    if (this.def.versioned && loaded !== undefined && loaded !== null && loaded !== '') body.base_version = Number(loaded);
    const row = await this.run(() => updateRecord(this.rt, { resource: this.def.name, ctx, id, parentId: where.parentId, body }));
    return this.toParams(row, where.org);
  }

  /** Delete is archive: nothing is hard-deleted. */
  async delete(id: string, context?: ActionContext): Promise<void> {
    const scope = await this.scope(context);
    const where = await locate(this.rt, scope, this.def, id);
    if (!where) throw new NotFoundError(`${this.def.name} ${id} not found`, 'delete');
    const ctx = this.ctx(scope, where.org, context);
    const current = await this.run(() => getRecord(this.rt, { resource: this.def.name, ctx, id, parentId: where.parentId }));
    await this.run(() => archiveRecord(this.rt, { resource: this.def.name, ctx, id, parentId: where.parentId, baseVersion: current.version as number | undefined }));
  }

  // --- internals -------------------------------------------------------------------------------

  private scope(context?: ActionContext): Promise<AdminScope> {
    return adminScope(this.rt, context?.currentAdmin as SessionAdmin | undefined).catch((err) => {
      throw err instanceof AppError ? new ForbiddenError(err.message) : err;
    });
  }

  private ctx(scope: AdminScope, org: Org | undefined, _context?: ActionContext) {
    return operationContext(scope, org);
  }

  private async load(scope: AdminScope, id: string, context?: ActionContext): Promise<{ params: Row } | null> {
    const where = await locate(this.rt, scope, this.def, id);
    if (!where) return null;
    try {
      const row = await getRecord(this.rt, { resource: this.def.name, ctx: this.ctx(scope, where.org, context), id, parentId: where.parentId });
      return { params: this.toParams(row, where.org) };
    } catch (err) {
      if (err instanceof AppError && (err.code === 'not_found' || err.code === 'forbidden')) return null;
      throw err;
    }
  }

  private async list(filter: Filter, options: { limit?: number; offset?: number; sort?: { sortBy?: string; direction?: 'asc' | 'desc' } }, context?: ActionContext) {
    const scope = await this.scope(context);
    const { query, org, parentId } = this.listQuery(scope, filter);
    query.limit = String(Math.min(Math.max(options.limit ?? 10, 1), MAX_PAGE_SIZE));
    query.offset = String(Math.max(options.offset ?? 0, 0));
    const sortBy = options.sort?.sortBy;
    if (sortBy && (sortBy === 'id' || this.def.fields[sortBy]?.sort)) query.sort = `${options.sort?.direction === 'desc' ? '-' : ''}${sortBy}`;
    const result = await this.run(() => listRecords(this.rt, {
      resource: this.def.name, ctx: this.ctx(scope, org, context), query, parentId, acrossParents: !!this.def.parent && !parentId,
    }));
    return { records: result.data.map((row) => new BaseRecord(this.toParams(row, org), this)), total: result.total_count ?? 0 };
  }

  /** AdminJS's filter as the list operation's query: the definition's filterable fields only. */
  private listQuery(scope: AdminScope, filter: Filter): { query: Record<string, unknown>; org?: Org; parentId?: string } {
    const query: Record<string, unknown> = {};
    let org: Org | undefined;
    let parentId: string | undefined;
    let requestedOrg: unknown;
    for (const { path, value } of Object.values(filter.filters ?? {})) {
      if (path === ORGANIZATION_PROPERTY) {
        requestedOrg = value;
        continue;
      }
      if (this.def.parent && path === this.def.parent.field && typeof value === 'string') {
        parentId = value;
        continue;
      }
      const field = this.def.fields[path];
      if (!isFilterable(field)) {
        // A reference picker searches by the title property; the definition's search does that.
        if (typeof value === 'string' && this.def.searchFields.length) query.search = value;
        continue;
      }
      const ops = filterOperators(field!);
      if (value && typeof value === 'object') {
        const range = value as { from?: string; to?: string };
        if (range.from && ops.includes('gte')) query[`${path}[gte]`] = range.from;
        if (range.to && ops.includes('lte')) query[`${path}[lte]`] = range.to;
      } else if ((field!.type === 'string' || field!.type === 'text') && ops.includes('like')) {
        query[`${path}[like]`] = String(value);
      } else {
        query[path] = String(value);
      }
    }
    if (this.def.tenant) org = pickOrg(scope, requestedOrg);
    return { query, org, parentId };
  }

  /** A form's flat params as a body of the definition's writable fields, in their types. */
  private bodyFrom(params: Record<string, unknown>): Row {
    const nested = flat.unflatten(params) as Row;
    const out: Row = {};
    const fields = [...this.def.writableFields, ...(this.def.parent ? [this.def.parent.field] : [])];
    for (const name of fields) {
      if (!(name in nested)) continue;
      const field = this.def.fields[name];
      const raw = nested[name];
      if (raw === undefined) continue;
      if (raw === '' || raw === null) {
        out[name] = field.type === 'string[]' ? [] : null;
        continue;
      }
      switch (field.type) {
        case 'integer':
        case 'number': {
          const n = Number(raw);
          out[name] = typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(n) ? n : raw;
          break;
        }
        case 'boolean':
          out[name] = raw === true || raw === 'true' ? true : raw === false || raw === 'false' ? false : raw;
          break;
        case 'date':
          out[name] = typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(raw) ? raw.slice(0, 10) : raw;
          break;
        case 'string[]':
          out[name] = Array.isArray(raw) ? raw : [raw];
          break;
        default:
          out[name] = raw;
      }
    }
    return out;
  }

  private toParams(row: Row, org: Org | undefined): Row {
    return org ? { ...row, [ORGANIZATION_PROPERTY]: org.slug } : { ...row };
  }

  /** The kernel's errors as AdminJS shows them: field problems on the form, a stale edit as a clear notice. */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toAdminError(err);
    }
  }
}

export function toAdminError(err: unknown): unknown {
  if (!(err instanceof AppError)) return err;
  if (err.code === 'not_found') return new NotFoundError(err.message, 'operation');
  if (err.code === 'forbidden' || err.code === 'unauthorized') return new ForbiddenError(err.message);
  if (err.code === 'version_conflict') {
    const current = (err.details?.[0] as { current_version?: number } | undefined)?.current_version;
    const message = `Not saved: someone else changed this record after you opened it${current ? ` (it is now at version ${current})` : ''}. Reload it to see their changes, then make yours again.`;
    // AdminJS counts a save as failed only when some property has an error.
    return new ValidationError({ version: { type: 'version_conflict', message } }, { type: 'version_conflict', message });
  }
  if (err.status < 500) {
    const fields: Record<string, { type: string; message: string }> = {};
    for (const d of err.details ?? []) {
      const name = /^\/body\/([^/]+)/.exec(d.path)?.[1];
      if (name && !fields[name]) fields[name] = { type: err.code, message: d.message };
    }
    // AdminJS counts a save as failed only when some property has an error.
    if (!Object.keys(fields).length) fields.id = { type: err.code, message: err.message };
    return new ValidationError(fields, { type: err.code, message: err.message });
  }
  return err;
}
