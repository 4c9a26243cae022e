import type { ActionDefinition } from '../../app/core/plugin.js';
import { IDENTIFICATION_FIELDS, identificationItem } from './identification.js';

// Seed 001 §1.1 Src#20, §3.4: `GET /patients/search?q=&limit=`, the typeahead of dropdowns and
// autocomplete fields. It reuses the list search (app/operations/query-builder.ts applySearch):
// every word of q must prefix-match, case-insensitively, one of the four fields, each served by
// its prefix-search index. Archived patients are left out, as from every list.

/** The fields the seed names for the typeahead ("first name, last name, preferred name, and chart number"). */
export const TYPEAHEAD_FIELDS = ['first_name', 'last_name', 'preferred_name', 'chart_number'] as const;
export const TYPEAHEAD_MAX_LIMIT = 50;

export const searchPatients: ActionDefinition = {
  resource: 'patient',
  name: 'search',
  on: 'collection',
  method: 'get',
  access: 'read',
  summary: 'Search patients (typeahead)',
  description:
    'Lightweight matches for dropdowns and autocomplete: each word of `q` must be the start of the first name, last name, ' +
    'preferred name or chart number (case-insensitive; at most five words are used). An empty or blank `q` returns no items. ' +
    'Archived patients are not found. Items are sorted by last name, first name, then id; `total` counts every match. ' +
    'Sensitive fields are never returned. Reads are audited.',
  input: {
    type: 'object',
    properties: {
      q: { type: 'string', maxLength: 200, default: '', description: 'The words to match; empty returns nothing.' },
      limit: { type: 'integer', minimum: 1, maximum: TYPEAHEAD_MAX_LIMIT, default: 20, description: `How many items at most (1-${TYPEAHEAD_MAX_LIMIT}).` },
    },
  },
  output: {
    type: 'object',
    properties: {
      items: { type: 'array', items: identificationItem(), description: 'Matching patients with lightweight fields.' },
      total: { type: 'integer', minimum: 0, description: 'Total number of matches.' },
    },
    required: ['items', 'total'],
    additionalProperties: false,
  },
  async run({ input, find }) {
    // applySearch ignores `%`; a q of nothing else is as empty as a blank one.
    const q = (input.q as string).replace(/%/g, '').trim();
    if (!q) return { result: { items: [], total: 0 } };
    const { rows, total } = await find('patient', {
      search: { text: q, fields: TYPEAHEAD_FIELDS },
      sort: [{ field: 'last_name' }, { field: 'first_name' }],
      limit: input.limit as number,
      fields: IDENTIFICATION_FIELDS,
      count: true,
    });
    return { result: { items: rows, total: total ?? rows.length } };
  },
};
