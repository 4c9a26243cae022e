import { assertCan, assertCanWriteFields } from '../auth/ability.js';
import { diffRecords } from '../audit/audit-writer.js';
import { AppError, validationError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import type { OperationContext } from './context.js';
import { addComputed, assertParent, assertReferences, loadRow, present, type Row } from './records.js';
import { afterCommit, duplicateError } from './write-helpers.js';

export const versionConflict = (current: number, base: number) =>
  new AppError('version_conflict', `The record has changed since version ${base}: it is now at version ${current}`, [
    { path: '/body/base_version', message: 'is stale', current_version: current, base_version: base },
  ]);

/**
 * Changes only the fields sent. With a base version (body `base_version` or `If-Match`), a stale
 * one is a 409; the UPDATE itself is conditional on the version read, so of two concurrent
 * updates from the same version exactly one wins.
 */
export async function updateRecord(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, id: string, body: Row, opts: { parentId?: string; ifMatch?: number } = {}): Promise<Row> {
  assertCan(ctx.ability, 'update', def, ctx.org?.id);
  assertCanWriteFields(ctx.ability, 'update', def, Object.keys(body));
  const values = rt.validators.get(def.name)!.update({ ...body });
  let baseVersion = values.base_version as number | undefined;
  delete values.base_version;
  if (opts.ifMatch !== undefined) {
    if (baseVersion !== undefined && baseVersion !== opts.ifMatch) {
      throw validationError([{ path: '/body/base_version', message: 'differs from the If-Match header' }]);
    }
    baseVersion = opts.ifMatch;
  }
  if (def.requireBaseVersion && baseVersion === undefined) {
    throw validationError([{ path: '/body/base_version', message: 'is required (or send an If-Match header)' }]);
  }
  const codec = rt.codecs.get(def.name)!;
  let result: { row: Row; changed: boolean };
  try {
    result = await rt.db.knex.transaction(async (trx) => {
      await assertParent(rt, def, ctx, opts.parentId, trx);
      const current = await loadRow(rt, def, ctx, id, { trx, parentId: opts.parentId, action: 'update', forUpdate: true });
      if (baseVersion !== undefined && current.version !== baseVersion) throw versionConflict(current.version as number, baseVersion);
      const changes: Row = {};
      for (const [k, v] of Object.entries(values)) if (JSON.stringify(current[k] ?? null) !== JSON.stringify(v ?? null)) changes[k] = v;
      if (!Object.keys(changes).length) return { row: current, changed: false };
      await assertReferences(rt, def, ctx, changes, trx);
      const next: Row = { ...current, ...changes, updated_at: new Date().toISOString() };
      const set: Row = { ...codec.toDb(changes), updated_at: next.updated_at };
      const q = trx(def.table).where({ id });
      if (def.versioned) {
        next.version = (current.version as number) + 1;
        set.version = next.version;
        q.where('version', current.version as number);
      }
      const updated = await q.update(set);
      if (updated !== 1) {
        const now = await loadRow(rt, def, ctx, id, { trx, includeArchived: true });
        throw versionConflict(now.version as number, current.version as number);
      }
      await rt.audit.write(trx, ctx, def, 'update', id, diffRecords(def, current, next));
      return { row: next, changed: true };
    });
  } catch (err) {
    throw duplicateError(def, err) ?? err;
  }
  if (result.changed) await afterCommit(rt, def);
  addComputed(def, [result.row]);
  return present(def, ctx, result.row);
}
