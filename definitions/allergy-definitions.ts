import { defineEntity } from '../app/core/define.js';

// The practice's allergen catalog: seed 001 records a patient allergy against "an allergy
// definition from the org settings catalog" (§1.3, §3.19) without describing the catalog, so its
// fields are what a chart needs to name and code an allergen. Archiving an entry keeps the
// allergies already recorded against it and stops new ones from pointing at it.

export default defineEntity({
  name: 'allergy-definition',
  path: 'allergy-definitions',
  table: 'allergy_definitions',
  scope: 'catalogs',
  tenant: true,
  description: "An allergen in the practice's catalog; patient allergies point at one.",
  requireBaseVersion: true,
  defaultSort: 'name',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, unique: true, filter: true, sort: true, search: 'contains',
      description: 'Allergen name; unique within the organization (a duplicate is rejected with 409).', example: 'Penicillin',
    },
    allergen_type: {
      type: 'enum', values: ['drug', 'food', 'environmental', 'other'], default: 'drug', filter: true, sort: true,
      description: 'Kind of allergen: drug (default), food, environmental, other.',
    },
    snomed_code: {
      type: 'string', maxLength: 20, pattern: '^\\d{6,18}$', filter: true, search: 'prefix',
      description: 'SNOMED CT concept id of the substance.', example: '764146007',
    },
    rx_cui: {
      type: 'string', maxLength: 20, pattern: '^\\d{1,10}$', filter: true,
      description: 'RxNorm concept id, for drug allergens.', example: '70618',
    },
    description: { type: 'text', description: 'Notes for staff recording the allergy.' },
  },
  admin: { group: 'Catalogs', icon: 'ShieldAlert', listProperties: ['name', 'allergen_type', 'snomed_code'] },
});
