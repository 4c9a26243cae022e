import { assertCan } from '../auth/ability.js';
import { diffRecords } from '../audit/audit-writer.js';
import { AppError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import type { OperationContext } from './context.js';
import { addComputed, assertParent, loadRow, present, type Row } from './records.js';
import { afterCommit } from './write-helpers.js';

async function setArchived(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, id: string, archived: boolean, opts: { parentId?: string }): Promise<Row> {
  const action = archived ? 'archive' : 'restore';
  assertCan(ctx.ability, action, def, ctx.org?.id);
  const row = await rt.db.knex.transaction(async (trx) => {
    await assertParent(rt, def, ctx, opts.parentId, trx);
    const current = await loadRow(rt, def, ctx, id, { trx, parentId: opts.parentId, includeArchived: !archived, action, forUpdate: true });
    if (!archived && current.deleted_at === null) {
      throw new AppError('unprocessable', `${def.name.replace(/-/g, ' ')} is not archived`, [{ path: '/path/id', message: 'is not archived' }]);
    }
    const now = new Date().toISOString();
    const next: Row = { ...current, deleted_at: archived ? now : null, updated_at: now };
    const set: Row = { deleted_at: next.deleted_at, updated_at: now };
    if (def.versioned) {
      next.version = (current.version as number) + 1;
      set.version = next.version;
    }
    await trx(def.table).where({ id }).update(set);
    await rt.audit.write(trx, ctx, def, action, id, diffRecords(def, current, next));
    return next;
  });
  await afterCommit(rt, def);
  addComputed(def, [row]);
  return present(def, ctx, row);
}

/** Soft delete: sets deleted_at; the record leaves default lists. Nothing is hard-deleted. */
export const archiveRecord = (rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, id: string, opts: { parentId?: string } = {}) =>
  setArchived(rt, def, ctx, id, true, opts);

export const restoreRecord = (rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, id: string, opts: { parentId?: string } = {}) =>
  setArchived(rt, def, ctx, id, false, opts);
