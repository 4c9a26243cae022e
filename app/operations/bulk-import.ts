import type { Knex } from 'knex';
import { assertCan, assertCanWriteFields } from '../auth/ability.js';
import { diffRecords, sameValue } from '../audit/audit-writer.js';
import { AppError, type ErrorDetail } from '../core/errors.js';
import { HOOK_NAMES } from '../core/plugin.js';
import type { ResolvedDefinition } from '../core/types.js';
import { recordCountChanges } from '../counts/maintain.js';
import { copyRow } from '../db/codec.js';
import { insertRows } from '../db/statements.js';
import { newEvent, type OutboxEvent } from '../events/outbox.js';
import type { Runtime } from '../runtime.js';
import { createRecord } from './create.js';
import { versionConflict } from './errors.js';
import { assertChangeableFields } from './field-rules.js';
import { inTransaction } from './pipeline.js';
import { humanName, type Row, type Scope } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';
import { updateRecord } from './update.js';
import { committed, duplicateError, newRow, updateRow } from './write-helpers.js';

// Imports a batch of records: each row validated exactly like a create, matched against existing
// records by a unique field, then created, updated like a PATCH, skipped or failed, with the good
// rows applied in one transaction and the bad ones reported. The fast path of bulk-create.ts:
// multi-row INSERTs, one query per referenced resource and per chunk of match keys, audit rows and
// outbox events written in bulk. Resources with write hooks take the one-record pipeline per row
// (still in the batch's transaction), since hooks see one record at a time.

export type ImportMode = 'validate' | 'apply';
export type OnConflict = 'skip' | 'update' | 'fail';
export type ImportStatus = 'created' | 'updated' | 'skipped' | 'failed' | 'valid';

/** One row of an import: its number in the whole import and its raw value. */
export interface ImportItem {
  row: number;
  data: unknown;
  /** Set when an earlier row of the same import already uses this row's match key. */
  duplicateOf?: number;
}

export interface ImportRowResult {
  row: number;
  status: ImportStatus;
  id?: string;
  /** Error details in the envelope's shape, paths under `/rows/{row}`, each with its error code. */
  errors?: (ErrorDetail & { code: string })[];
}

export interface ImportCounts {
  total: number;
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  validated: number;
}

export interface ImportResult extends ImportCounts {
  results: ImportRowResult[];
}

/** What a row that passed validation is, for extensions. */
export interface ImportedRow {
  row: number;
  /** The record's id (existing or new). */
  id: string;
  status: 'created' | 'updated' | 'valid';
  /** What the extension took out of the raw row (its own keys). */
  extra: Row;
}

/**
 * The seam for data that lives beside the record (custom field values): an extension takes its
 * own keys out of each raw row before the record's validation (keys no extension claims are
 * unknown fields), checks them, and writes its rows in the batch's transaction.
 */
export interface ImportExtension {
  keys: readonly string[];
  /** Problems of the row's own keys (paths relative to the row, e.g. `/field_values/x`). */
  validate?(s: Scope, extra: Row, values: Row): ErrorDetail[] | Promise<ErrorDetail[]>;
  /** Writes the extension's rows for the applied rows (not called in validate mode). */
  write?(s: Scope, trx: Knex.Transaction, rows: ImportedRow[]): Promise<void>;
}

export interface BulkImportArgs extends ResourceArgs {
  items: readonly ImportItem[];
  mode: ImportMode;
  onConflict: OnConflict;
  /** A unique field of the resource; rows are matched to existing records by it. */
  matchOn: string;
  extensions?: readonly ImportExtension[];
  /** Runs in the batch's transaction after its writes: a job's durable cursor commits with them. */
  commitWith?: (trx: Knex.Transaction, result: ImportResult) => Promise<void>;
}

const MAX_RETRIES = 3;
/** Values per `in (…)` list: within both databases' parameter limits, a few statements per chunk. */
const IN_LIST = 500;

function rowErrors(row: number, err: unknown): ImportRowResult['errors'] {
  if (!(err instanceof AppError)) throw err;
  const details = err.details?.length ? err.details : [{ path: '/body', message: err.message }];
  return details.map((d) => ({ ...d, path: d.path.replace(/^\/body/, `/rows/${row}`), code: err.code }));
}

const failed = (row: number, code: string, details: ErrorDetail[]): ImportRowResult => ({
  row,
  status: 'failed',
  errors: details.map((d) => ({ ...d, path: `/rows/${row}${d.path}`, code })),
});

interface Candidate {
  item: ImportItem;
  raw: Row;
  extra: Row;
  values: Row;
  key: unknown;
  /** The stored record it matches, and for updates the changes to make. */
  current?: Row;
  changes?: Row;
}

function* slices<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Validates the rows, then applies them (or, in validate mode, reports what would happen). */
export async function bulkImportRecords(rt: Runtime, args: BulkImportArgs): Promise<ImportResult> {
  const { s, def } = openScope(rt, args);
  const { ctx } = s;
  assertCan(ctx.ability, 'create', def, ctx.org?.id);
  if (args.onConflict === 'update') assertCan(ctx.ability, 'update', def, ctx.org?.id);
  const match = def.fields[args.matchOn];
  if (!match?.unique) throw new TypeError(`bulk import of '${def.name}': match field '${args.matchOn}' is not a unique field`);
  const validator = s.gen.validators(def.name);
  const extensions = args.extensions ?? [];
  const results = new Map<number, ImportRowResult>();
  const fail = (r: ImportRowResult) => results.set(r.row, r);

  // 1. Each row on its own, as a create would check it.
  const candidates: Candidate[] = [];
  const seen = new Map<unknown, number>();
  for (const item of args.items) {
    const { row, data } = item;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      fail(failed(row, 'validation_error', [{ path: '', message: 'must be a JSON object' }]));
      continue;
    }
    const raw: Row = { ...(data as Row) };
    const extra: Row = {};
    for (const ext of extensions) {
      for (const k of ext.keys) {
        if (k in raw) {
          extra[k] = raw[k];
          delete raw[k];
        }
      }
    }
    try {
      assertCanWriteFields(ctx.ability, 'create', def, Object.keys(raw));
      assertChangeableFields(rt, def, raw, 'create');
      const values = validator.create(copyRow(raw));
      const problems: ErrorDetail[] = [];
      for (const ext of extensions) if (ext.validate) problems.push(...(await ext.validate(s, extra, values)));
      if (problems.length) {
        fail(failed(row, 'validation_error', problems));
        continue;
      }
      const key = values[args.matchOn];
      const earlier = item.duplicateOf ?? (key != null && key !== '' ? seen.get(key) : undefined);
      if (earlier !== undefined) {
        fail(failed(row, 'duplicate', [{ path: `/${args.matchOn}`, message: `is already used by row ${earlier} of this import` }]));
        continue;
      }
      if (key != null && key !== '') seen.set(key, row);
      candidates.push({ item, raw, extra, values, key });
    } catch (err) {
      fail({ row, status: 'failed', errors: rowErrors(row, err) });
    }
  }

  const withHooks = HOOK_NAMES.some((h) => rt.kernel.hooksFor(h, def.name, 'create').length || rt.kernel.hooksFor(h, def.name, 'update').length);
  let outcome: { results: ImportRowResult[]; events: OutboxEvent[]; written: boolean } | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      outcome = await inTransaction(s, async (trx) => {
        const batch = await applyBatch(s, def, trx, args, candidates.map((c) => ({ ...c })), withHooks);
        const result = summarize(args.items.length, [...results.values(), ...batch.results]);
        if (args.commitWith) await args.commitWith(trx, result);
        return batch;
      });
      break;
    } catch (err) {
      // A record with a match key this batch was about to create was committed meanwhile by
      // someone else: the batch is rolled back whole, and the next attempt sees that record.
      if (attempt >= MAX_RETRIES || !duplicateError(def, err)) throw err;
    }
  }
  if (outcome.written) await committed(rt, def);
  if (outcome.events.length) rt.events.dispatch(outcome.events);
  return summarize(args.items.length, [...results.values(), ...outcome.results]);
}

function summarize(total: number, results: ImportRowResult[]): ImportResult {
  results.sort((a, b) => a.row - b.row);
  const counts: ImportCounts = { total, created: 0, updated: 0, skipped: 0, failed: 0, validated: 0 };
  for (const r of results) counts[r.status === 'valid' ? 'validated' : r.status]++;
  return { ...counts, results };
}

async function applyBatch(s: Scope, def: ResolvedDefinition, trx: Knex.Transaction, args: BulkImportArgs, candidates: Candidate[], withHooks: boolean) {
  const { rt, ctx } = s;
  const codec = s.gen.codec(def.name);
  const validator = s.gen.validators(def.name);
  const results: ImportRowResult[] = [];
  const events: OutboxEvent[] = [];
  const apply = args.mode === 'apply';

  // 2. Existing records with the rows' match keys (archived ones too: they hold their key).
  const keys = [...new Set(candidates.map((c) => c.key).filter((k) => k != null && k !== ''))];
  const existing = new Map<unknown, Row>();
  for (const part of slices(keys, IN_LIST)) {
    const sql = `select * from "${def.table}" where ${def.tenant ? '"org_id" = ? and ' : ''}"${args.matchOn}" in (${part.map(() => '?').join(', ')})`;
    const rows = await rt.db.statements.all(trx, sql, def.tenant ? [ctx.org!.id, ...part] : part);
    for (const stored of rows) {
      const decoded = codec.fromDb(stored);
      existing.set(decoded[args.matchOn], decoded);
    }
  }
  const creates: Candidate[] = [];
  const updates: Candidate[] = [];
  for (const c of candidates) {
    const current = c.key != null && c.key !== '' ? existing.get(c.key) : undefined;
    const row = c.item.row;
    if (!current) {
      creates.push(c);
      continue;
    }
    const id = current.id as string;
    if (args.onConflict === 'skip') {
      results.push({ row, status: 'skipped', id });
    } else if (args.onConflict === 'fail') {
      results.push(failed(row, 'duplicate', [{ path: `/${args.matchOn}`, message: `is already taken by ${humanName(def).toLowerCase()} ${id}`, id }]));
    } else if (current.deleted_at) {
      results.push(failed(row, 'duplicate', [{ path: `/${args.matchOn}`, message: `belongs to archived ${humanName(def).toLowerCase()} ${id}: restore it to update it`, id }]));
    } else {
      // Like a PATCH with the row's fields: what already holds the sent value is no change, so a
      // field owned by an action (status) may be sent as it is, but not changed.
      try {
        assertCanWriteFields(ctx.ability, 'update', def, Object.keys(c.raw));
        const values = validator.update(copyRow(c.raw));
        const changes: Row = {};
        for (const [k, v] of Object.entries(values)) if (!sameValue(current[k], v)) changes[k] = v;
        assertChangeableFields(rt, def, changes, 'update');
        updates.push({ ...c, current, changes });
      } catch (err) {
        results.push({ row, status: 'failed', errors: rowErrors(row, err) });
      }
    }
  }

  // 3. References, one query per referenced resource and slice of ids.
  const refFields = Object.entries(def.fields).filter(([n, f]) => f.ref && n !== def.parent?.field);
  const badRows = new Set<number>();
  for (const [name, field] of refFields) {
    const valueOf = (c: Candidate) => (c.changes ? c.changes[name] : c.values[name]);
    const wanted = [...new Set([...creates, ...updates].map(valueOf).filter((v): v is string => typeof v === 'string'))];
    if (!wanted.length) continue;
    const target = s.gen.registry.get(field.ref!);
    const found = new Set<string>();
    for (const part of slices(wanted, IN_LIST)) {
      let sql = `select "id" from "${target.table}" where "id" in (${part.map(() => '?').join(', ')})`;
      const params: unknown[] = [...part];
      if (target.tenant) {
        sql += ' and "org_id" = ?';
        params.push(ctx.org!.id);
      }
      if (target.archivable) sql += ' and "deleted_at" is null';
      for (const r of await rt.db.statements.all(trx, sql, params)) found.add(String(r.id).toLowerCase());
    }
    for (const c of [...creates, ...updates]) {
      const v = valueOf(c);
      if (typeof v !== 'string' || found.has(v.toLowerCase())) continue;
      const row = c.item.row;
      const result = results.find((r) => r.row === row) ?? { row, status: 'failed' as const, errors: [] };
      if (!badRows.has(row)) results.push(result);
      badRows.add(row);
      result.errors!.push({ path: `/rows/${row}/${name}`, message: `no ${humanName(target).toLowerCase()} with id '${v}'`, code: 'unprocessable' });
    }
  }
  const toCreate = creates.filter((c) => !badRows.has(c.item.row));
  const toUpdate = updates.filter((c) => !badRows.has(c.item.row));

  if (!apply) {
    for (const c of [...toCreate, ...toUpdate]) results.push({ row: c.item.row, status: 'valid', ...(c.current ? { id: c.current.id as string } : {}) });
    await runExtensions(s, args, trx, [], false);
    return { results, events, written: false };
  }

  const applied: ImportedRow[] = [];
  if (withHooks) {
    // Hooks see one record at a time: each row through the one-record pipeline, in a savepoint
    // of the batch's transaction so that a refused row leaves the others standing.
    const joined = { ...ctx, transaction: trx };
    for (const c of toCreate) {
      try {
        const record = await createRecord(rt, { resource: def.name, ctx: joined, parentId: args.parentId, body: c.raw });
        results.push({ row: c.item.row, status: 'created', id: record.id as string });
        applied.push({ row: c.item.row, id: record.id as string, status: 'created', extra: c.extra });
      } catch (err) {
        results.push({ row: c.item.row, status: 'failed', errors: rowErrors(c.item.row, duplicateError(def, err) ?? err) });
      }
    }
    for (const c of toUpdate) {
      const id = c.current!.id as string;
      try {
        await updateRecord(rt, { resource: def.name, ctx: joined, parentId: args.parentId, id, body: c.raw, ifMatch: def.versioned ? (c.current!.version as number) : undefined });
        results.push({ row: c.item.row, status: 'updated', id });
        applied.push({ row: c.item.row, id, status: 'updated', extra: c.extra });
      } catch (err) {
        results.push({ row: c.item.row, status: 'failed', errors: rowErrors(c.item.row, duplicateError(def, err) ?? err) });
      }
    }
    await runExtensions(s, args, trx, applied, true);
    return { results, events, written: false };
  }

  // 4. Creates: multi-row INSERTs, audit and events in bulk.
  const now = new Date().toISOString();
  const fresh = toCreate.map((c) => ({ c, record: newRow(def, ctx, c.values, args.parentId, now) }));
  if (fresh.length) {
    await insertRows(rt.db.statements, trx, def.table, fresh.map((f) => codec.toDb(f.record)));
    await recordCountChanges(trx, rt, def, ctx.org?.id, fresh.map((f) => ({ before: null, after: f.record })));
    await rt.audit.writeMany(trx, ctx, def, 'create', fresh.map((f) => ({ id: f.record.id as string, changes: diffRecords(def, null, f.record) })));
    const type = `${def.name}.created`;
    if (rt.kernel.isSubscribed(type)) for (const f of fresh) events.push(newEvent(ctx, def, f.record, type, { version: f.record.version }));
    for (const f of fresh) {
      results.push({ row: f.c.item.row, status: 'created', id: f.record.id as string });
      applied.push({ row: f.c.item.row, id: f.record.id as string, status: 'created', extra: f.c.extra });
    }
  }

  // 5. Updates: a conditional UPDATE each (the version read above), audit and events in bulk.
  const changedRows: { before: Row; after: Row }[] = [];
  for (const c of toUpdate) {
    const current = c.current!;
    const id = current.id as string;
    const changes = c.changes!;
    results.push({ row: c.item.row, status: 'updated', id });
    applied.push({ row: c.item.row, id, status: 'updated', extra: c.extra });
    // Sending what the record already holds changes nothing, as with PATCH.
    if (!Object.keys(changes).length) continue;
    const next = copyRow(current, changes, { updated_at: now });
    const set: Row = { ...codec.toDb(changes), updated_at: now };
    if (def.versioned) set.version = next.version = (current.version as number) + 1;
    if ((await updateRow(rt, trx, def.table, id, set, def.versioned ? (current.version as number) : undefined)) !== 1) {
      // Changed by someone else since it was read in this transaction (PostgreSQL): that row fails.
      results.pop();
      applied.pop();
      results.push({ row: c.item.row, status: 'failed', errors: rowErrors(c.item.row, versionConflict((current.version as number) + 1, current.version as number)) });
      continue;
    }
    changedRows.push({ before: current, after: next });
  }
  if (changedRows.length) {
    await recordCountChanges(trx, rt, def, ctx.org?.id, changedRows);
    const diffs = changedRows.map((r) => ({ r, changes: diffRecords(def, r.before, r.after) }));
    await rt.audit.writeMany(trx, ctx, def, 'update', diffs.map((d) => ({ id: d.r.after.id as string, changes: d.changes })));
    const type = `${def.name}.updated`;
    if (rt.kernel.isSubscribed(type)) for (const d of diffs) events.push(newEvent(ctx, def, d.r.after, type, { version: d.r.after.version, changed: Object.keys(d.changes) }));
  }
  await runExtensions(s, args, trx, applied, true);
  await rt.events.record(trx, events);
  return { results, events, written: fresh.length > 0 || changedRows.length > 0 };
}

async function runExtensions(s: Scope, args: BulkImportArgs, trx: Knex.Transaction, applied: ImportedRow[], apply: boolean): Promise<void> {
  if (!apply || !applied.length) return;
  for (const ext of args.extensions ?? []) if (ext.write) await ext.write(s, trx, applied);
}
