import { AppError } from '../core/errors.js';
import { assertCan } from '../auth/ability.js';
import type { ActionDefinition } from '../core/plugin.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import { findRecords, readableRows } from './find.js';
import { bodyObject, runWrite } from './pipeline.js';
import { addComputed, assertParent, loadRow, modelQuery, present, type Row, type Scope } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';
import { duplicateError, updateRow } from './write-helpers.js';
import { copyRow } from '../db/codec.js';

export interface ActionArgs extends ResourceArgs {
  action: string;
  /** The record, for record actions; absent for collection actions. */
  id?: string;
  body: Row;
}

/**
 * Runs a plugin action through the write pipeline: authorization, hooks, validation of its declared
 * input, one transaction, the audit row (named by the action) and the outbox. A record action that
 * returns changes updates the record like an update does (a new version, `<resource>.updated`).
 * A read action (`access: 'read'`) changes nothing: it is authorized and validated the same way
 * but runs without a transaction, a lock or the write hooks.
 */
export async function runAction(rt: Runtime, args: ActionArgs): Promise<unknown> {
  const { s, def } = openScope(rt, args);
  const on = args.id === undefined ? 'collection' : 'record';
  const action = rt.kernel.action(def.name, args.action, on);
  if (!action) throw new AppError('not_found', `${def.path} has no ${on} action '${args.action}'`);
  const check = s.gen.actionInput(def.name, action.name, on);
  if (action.access === 'read') return runReadAction(s, def, action, args, check);
  const codec = s.gen.codec(def.name);
  let result: unknown;
  try {
    const { answered } = await runWrite(s, {
      operation: action.name,
      ability: abilityFor(action),
      def,
      input: args.body,
      validate: (input) => check(copyRow(input)),
      parentId: args.parentId,
      id: args.id,
      event: 'updated',
      async write(state, trx) {
        const outcome = await action.run({
          rt,
          ctx: { ...s.ctx, transaction: trx },
          def,
          trx,
          parentId: args.parentId,
          input: state.data,
          current: state.current,
          emit: state.emit,
          query: state.query,
          read: (resource) => readableRows(s, resource, trx),
          find: (resource, spec) => findRecords(s, resource, spec, trx, `${def.name}.${action.name}`),
        });
        result = outcome.result;
        if (!outcome.changes || !state.current) return null;
        const current = state.current;
        const changes = outcome.changes;
        const now = new Date().toISOString();
        const next: Row = copyRow(current, changes, { updated_at: now });
        const set: Row = { ...codec.toDb(changes), updated_at: now };
        if (def.versioned) {
          next.version = (current.version as number) + 1;
          set.version = next.version;
        }
        await updateRow(rt, trx, def.table, current.id as string, set);
        return next;
      },
    });
    return result !== undefined ? result : answered;
  } catch (err) {
    throw duplicateError(def, err) ?? err;
  }
}

/** Record actions change a record (update); collection actions make or read records. */
function abilityFor(action: ActionDefinition): 'read' | 'update' | 'create' {
  if (action.access === 'read') return 'read';
  return action.on === 'record' ? 'update' : 'create';
}

/** A read action: the caller's read permission, the input's check, the record (no lock), then the action's own reads. */
async function runReadAction(s: Scope, def: ResolvedDefinition, action: ActionDefinition, args: ActionArgs, check: (input: Row) => Row): Promise<unknown> {
  const { rt, ctx } = s;
  assertCan(ctx.ability, 'read', def, ctx.org?.id);
  const input = check(copyRow(bodyObject(args.body)));
  await assertParent(s, def, args.parentId);
  const current = args.id !== undefined ? await loadRow(s, def, args.id, { parentId: args.parentId, action: 'read' }) : null;
  const via = `${def.name}.${action.name}`;
  const outcome = await action.run({
    rt,
    ctx,
    def,
    parentId: args.parentId,
    input,
    current,
    emit: () => {
      throw new Error(`read action '${via}' cannot emit events`);
    },
    query: (resource) => modelQuery(s, resource),
    read: (resource) => readableRows(s, resource),
    find: (resource, spec) => findRecords(s, resource, spec, undefined, via),
  });
  if (outcome.changes) throw new Error(`read action '${via}' returned changes`);
  if (outcome.result !== undefined) return outcome.result;
  if (!current) return null;
  addComputed(def, [current]);
  return present(def, ctx, current);
}
