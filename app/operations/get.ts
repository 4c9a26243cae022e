import { assertCan } from '../auth/ability.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import type { OperationContext } from './context.js';
import { addComputed, assertParent, embedRelations, loadRow, present, type Row } from './records.js';

export interface GetOptions {
  parentId?: string;
  includeArchived?: boolean;
  fields?: string[];
  include?: string[];
}

export async function getRecord(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, id: string, opts: GetOptions = {}): Promise<Row> {
  assertCan(ctx.ability, 'read', def, ctx.org?.id);
  await assertParent(rt, def, ctx, opts.parentId);
  const row = await loadRow(rt, def, ctx, id, opts);
  addComputed(def, [row]);
  if (opts.include?.length) await embedRelations(rt, def, ctx, [row], opts.include);
  if (def.auditReads) rt.audit.read(ctx, def, 'read', id);
  return present(def, ctx, row, opts.fields);
}
