import { defineEntity } from '../app/core/define.js';

// The practice's medication catalog: seed 001 links a patient medication to "a medication
// definition from the catalog" (§1.5, §3.19) without describing it; an entry names a drug
// product the way it is prescribed (name, strength, form, usual route) with its RxNorm CUI.

export default defineEntity({
  name: 'medication-definition',
  path: 'medication-definitions',
  table: 'medication_definitions',
  scope: 'catalogs',
  tenant: true,
  description: "A medication in the practice's catalog; patient medications may point at one.",
  requireBaseVersion: true,
  defaultSort: 'name',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, unique: true, filter: true, sort: true, search: 'contains',
      description: 'Product name as prescribed, with strength; unique within the organization (a duplicate is rejected with 409).', example: 'Amoxicillin 500 mg capsule',
    },
    generic_name: {
      type: 'string', maxLength: 200, filter: true, sort: true, search: 'contains',
      description: 'Active ingredient(s).', example: 'amoxicillin',
    },
    strength: { type: 'string', maxLength: 100, description: 'Strength per unit.', example: '500 mg' },
    dosage_form: { type: 'string', maxLength: 100, filter: true, description: 'Dosage form.', example: 'capsule' },
    route: { type: 'string', maxLength: 50, filter: true, description: 'Usual route of administration.', example: 'oral' },
    rx_cui: {
      type: 'string', maxLength: 20, pattern: '^\\d{1,10}$', filter: true,
      description: 'RxNorm concept id.', example: '308191',
    },
    description: { type: 'text', description: 'Notes for prescribers.' },
  },
  admin: { group: 'Catalogs', icon: 'Pill', listProperties: ['name', 'generic_name', 'route', 'rx_cui'] },
});
