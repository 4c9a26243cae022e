import { defineEntity } from '../app/core/define.js';

// Seed 001 §1.14 / §2.15 PatientTagDefinitionOut: the practice's catalog of patient tags.
// item_order defaults to 1 as in the seed's example (§2.17).

export default defineEntity({
  name: 'patient-tag-definition',
  path: 'patient-tag-definitions',
  table: 'patient_tag_definitions',
  scope: 'catalogs',
  tenant: true,
  description: 'A tag the practice puts on patients (e.g. VIP, new patient special).',
  requireBaseVersion: true,
  defaultSort: 'item_order',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, filter: true, sort: true, search: 'contains',
      description: 'Tag name.', example: 'VIP',
    },
    category: {
      type: 'string', maxLength: 100, filter: true, sort: true, search: 'contains',
      description: 'Grouping shown in pickers.', example: 'Marketing',
    },
    color: {
      type: 'string', maxLength: 30,
      description: 'Display colour (free text, e.g. #RRGGBB or a colour name).', example: '#1E88E5',
    },
    description: { type: 'text', description: 'What the tag means.' },
    item_order: {
      type: 'integer', default: 1, min: 0, max: 100000, sort: true, filter: true,
      description: 'Position in pickers, lowest first. Defaults to 1.', example: 1,
    },
  },
  admin: { group: 'Catalogs', icon: 'Tag', listProperties: ['name', 'category', 'color', 'item_order'] },
});
