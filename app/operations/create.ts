import { assertCan, assertCanWriteFields } from '../auth/ability.js';
import { diffRecords } from '../audit/audit-writer.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import type { OperationContext } from './context.js';
import { addComputed, assertParent, assertReferences, present, type Row } from './records.js';
import { afterCommit, duplicateError, newRow } from './write-helpers.js';

/** Validates and stores a new record, with its audit event, in one transaction. */
export async function createRecord(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, body: Row, opts: { parentId?: string } = {}): Promise<Row> {
  assertCan(ctx.ability, 'create', def, ctx.org?.id);
  assertCanWriteFields(ctx.ability, 'create', def, Object.keys(body));
  const values = rt.validators.get(def.name)!.create({ ...body });
  const codec = rt.codecs.get(def.name)!;
  let row: Row;
  try {
    row = await rt.db.knex.transaction(async (trx) => {
      await assertParent(rt, def, ctx, opts.parentId, trx);
      await assertReferences(rt, def, ctx, values, trx);
      const fresh = newRow(def, ctx, values, opts.parentId);
      await trx(def.table).insert(codec.toDb(fresh));
      await rt.audit.write(trx, ctx, def, 'create', fresh.id as string, diffRecords(def, null, fresh));
      return fresh;
    });
  } catch (err) {
    throw duplicateError(def, err) ?? err;
  }
  await afterCommit(rt, def);
  addComputed(def, [row]);
  return present(def, ctx, row);
}
