import { defineEntity } from '../core/define.js';

/**
 * Exact totals of live records per organization, count key and value combination, kept in the
 * transaction of every write to a resource that declares `counts`: a list filtered on exactly a
 * key's fields reads its total here instead of counting rows. A row per table with count key
 * `#keys` (under the nil organization) records which keys the counts were built for.
 */
export const recordCountDefinition = defineEntity({
  name: 'record-count',
  path: 'record-counts',
  table: 'record_counts',
  scope: 'record-counts',
  tenant: true,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  fields: {
    table_name: { type: 'string', required: true, description: 'The counted resource\'s table.' },
    count_key: { type: 'string', required: true, description: 'The key\'s field names joined by commas (empty for the unfiltered total).' },
    key_values: { type: 'string', required: true, description: 'The values of the key\'s fields, in its order, as a JSON array in API form.' },
    slot: {
      type: 'integer', required: true, default: 0,
      description: 'Which of the database\'s stripes of this count the row is: the total is their sum.',
    },
    n: { type: 'integer', required: true, description: 'Live records with these values (in this slot; a slot alone may be negative).' },
  },
  // The upsert's conflict target (led by org_id, as every tenant index is), and the read's lookup.
  indexes: [{ columns: ['table_name', 'count_key', 'key_values', 'slot'], unique: true }],
});
