import { sameValue } from '../audit/audit-writer.js';
import { validationError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { versionConflict } from './errors.js';
import { assertChangeableFields } from './field-rules.js';
import { runWrite } from './pipeline.js';
import { loadRow, type Row } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';
import { duplicateError, updateRow } from './write-helpers.js';
import { copyRow } from '../db/codec.js';


export interface UpdateArgs extends ResourceArgs {
  id: string;
  body: Row;
  /** The version from an `If-Match` header; the body's `base_version` must agree with it. */
  ifMatch?: number;
}

/**
 * Changes only the fields sent. With a base version (body `base_version` or `If-Match`), a stale
 * one is a 409; the UPDATE itself is conditional on the version read, so of two concurrent
 * updates from the same version exactly one wins. Sending the values a record already has
 * changes nothing: no new version, no audit row, no event.
 */
export async function updateRecord(rt: Runtime, args: UpdateArgs): Promise<Row> {
  const { s, def } = openScope(rt, args);
  const validators = s.gen.validators(def.name);
  const codec = s.gen.codec(def.name);
  let baseVersion: number | undefined;
  try {
    const { answered } = await runWrite(s, {
      operation: 'update',
      ability: 'update',
      def,
      input: args.body,
      fieldAccess: 'update',
      validate: (input) => {
        assertChangeableFields(rt, def, input, 'update');
        const values = validators.update(copyRow(input));
        baseVersion = values.base_version as number | undefined;
        delete values.base_version;
        if (args.ifMatch !== undefined) {
          if (baseVersion !== undefined && baseVersion !== args.ifMatch) {
            throw validationError([{ path: '/body/base_version', message: 'differs from the If-Match header' }]);
          }
          baseVersion = args.ifMatch;
        }
        if (def.requireBaseVersion && baseVersion === undefined) {
          throw validationError([{ path: '/body/base_version', message: 'is required (or send an If-Match header)' }]);
        }
        return values;
      },
      get baseVersion() {
        return baseVersion;
      },
      parentId: args.parentId,
      id: args.id,
      event: 'updated',
      prepare(state) {
        const changes: Row = {};
        for (const [k, v] of Object.entries(state.data)) if (!sameValue(state.current![k], v)) changes[k] = v;
        state.data = changes;
      },
      async write(state, trx) {
        const current = state.current!;
        const changes = state.data;
        if (!Object.keys(changes).length) return null;
        const next: Row = copyRow(current, changes, { updated_at: new Date().toISOString() });
        const set: Row = { ...codec.toDb(changes), updated_at: next.updated_at };
        let expected: number | undefined;
        if (def.versioned) {
          next.version = (current.version as number) + 1;
          set.version = next.version;
          expected = current.version as number;
        }
        if ((await updateRow(rt, trx, def.table, args.id, set, expected)) !== 1) {
          const now = await loadRow(s, def, args.id, { trx, includeArchived: true });
          throw versionConflict(now.version as number, current.version as number);
        }
        return next;
      },
    });
    return answered!;
  } catch (err) {
    throw duplicateError(def, err) ?? err;
  }
}
