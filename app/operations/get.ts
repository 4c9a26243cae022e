import { assertCan } from '../auth/ability.js';
import type { Runtime } from '../runtime.js';
import { parseFields, parseInclude } from './list-query.js';
import { addComputed, assertParent, embedRelations, loadRow, present, type Row } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';

export interface GetArgs extends ResourceArgs {
  id: string;
  /** `fields`, `include`, `include_archived`, as strings from a URL or typed values. */
  query?: Record<string, unknown>;
}

export async function getRecord(rt: Runtime, args: GetArgs): Promise<Row> {
  const { s, def } = openScope(rt, args);
  const { ctx } = s;
  assertCan(ctx.ability, 'read', def, ctx.org?.id);
  const q = s.gen.validators(def.name).getQuery({ ...(args.query ?? {}) });
  const fields = parseFields(def, q.fields);
  const include = parseInclude(def, q.include);
  await assertParent(s, def, args.parentId);
  const row = await loadRow(s, def, args.id, { parentId: args.parentId, includeArchived: q.include_archived === true });
  addComputed(def, [row]);
  if (include.length) await embedRelations(s, def, [row], include);
  if (def.auditReads) rt.audit.read(ctx, def, 'read', args.id);
  return present(def, ctx, row, fields);
}
