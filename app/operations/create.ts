import type { Knex } from 'knex';
import type { Runtime } from '../runtime.js';
import { assertChangeableFields } from './field-rules.js';
import { runWrite } from './pipeline.js';
import type { Row } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';
import { duplicateError, insertRow, newRow } from './write-helpers.js';
import { copyRow } from '../db/codec.js';

export interface CreateArgs extends ResourceArgs {
  body: Row;
  /** Runs inside the write's transaction with the record as answered (the idempotency record). */
  commitWith?: (trx: Knex.Transaction, answered: Row | null) => Promise<void>;
}

/** Validates and stores a new record, with its audit row and `<resource>.created` event, in one transaction. */
export async function createRecord(rt: Runtime, args: CreateArgs): Promise<Row> {
  const { s, def } = openScope(rt, args);
  const validators = s.gen.validators(def.name);
  const codec = s.gen.codec(def.name);
  try {
    const { answered } = await runWrite(s, {
      operation: 'create',
      ability: 'create',
      def,
      input: args.body,
      fieldAccess: 'create',
      validate: (input) => {
        assertChangeableFields(rt, def, input, 'create');
        return validators.create(copyRow(input));
      },
      parentId: args.parentId,
      event: 'created',
      commitWith: args.commitWith,
      async write(state, trx) {
        const fresh = newRow(def, s.ctx, state.data, args.parentId);
        await insertRow(rt, trx, def.table, codec.toDb(fresh));
        return fresh;
      },
    });
    return answered!;
  } catch (err) {
    throw duplicateError(def, err) ?? err;
  }
}
