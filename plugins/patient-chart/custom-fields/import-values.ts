import type { ErrorDetail } from '../../../app/core/errors.js';
import type { Row } from '../../../app/core/plugin.js';
import { customFieldsOf } from '../../../app/custom-fields/types.js';
import type { ImportExtension } from '../../../app/operations/bulk-import.js';
import { listRecords } from '../../../app/operations/list.js';
import type { Scope } from '../../../app/operations/records.js';
import { checkEntries, writeFieldValues } from './values.js';

// Custom field values in patient imports: a row may carry `field_values: {<key>: value}`, checked
// like PUT …/field-values (live fields, typed values, a required field not cleared) with the
// row's other fields, and written in the import batch's transaction through the same operations.

const fieldsOf = (s: Scope) => customFieldsOf(s.gen.registry.get('patient'), s.ctx.org?.id);

export const fieldValuesImport: ImportExtension = {
  keys: ['field_values'],
  validate(s, extra): ErrorDetail[] {
    const given = extra.field_values;
    if (given === undefined || given === null) return [];
    if (typeof given !== 'object' || Array.isArray(given)) return [{ path: '/field_values', message: 'must be an object of custom field values by key' }];
    return checkEntries({ values: given as Row }, fieldsOf(s), '').problems;
  },
  async write(s, trx, rows) {
    const fields = fieldsOf(s);
    const ctx = { ...s.ctx, schema: s.gen, transaction: trx };
    for (const row of rows) {
      const given = row.extra.field_values as Row | undefined | null;
      if (!given || !Object.keys(given).length) continue;
      const { entries } = checkEntries({ values: given }, fields, '');
      // A patient created by this batch has no values yet; an updated one may.
      const existing = row.status === 'created'
        ? new Map<string, Row>()
        : new Map((await listRecords(s.rt, { resource: 'patient-field-value', ctx, parentId: row.id, query: { 'field_definition_id[in]': entries.map((e) => e.field.id), limit: 100 } })).data.map((r) => [r.field_definition_id as string, r]));
      await writeFieldValues(s.rt, ctx, row.id, entries, existing);
    }
  },
};
