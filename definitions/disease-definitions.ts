import { defineEntity } from '../app/core/define.js';

// The practice's problem list catalog: seed 001 records a patient disease/problem against "a
// disease/problem definition from the org settings catalog" (§1.4, §3.19) without describing the
// catalog; an entry names the condition and carries its ICD-10-CM and SNOMED CT codes.

export default defineEntity({
  name: 'disease-definition',
  path: 'disease-definitions',
  table: 'disease_definitions',
  scope: 'catalogs',
  tenant: true,
  description: "A disease or problem in the practice's catalog; patient problems point at one.",
  requireBaseVersion: true,
  defaultSort: 'name',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, unique: true, filter: true, sort: true, search: 'contains',
      description: 'Condition name; unique within the organization (a duplicate is rejected with 409).', example: 'Essential hypertension',
    },
    icd10_code: {
      type: 'string', maxLength: 10, pattern: '^[A-Z][0-9][0-9A-Z](\\.[0-9A-Z]{1,4})?$', filter: true, sort: true, search: 'prefix',
      description: 'ICD-10-CM code, with its dot.', example: 'I10',
    },
    snomed_code: {
      type: 'string', maxLength: 20, pattern: '^\\d{6,18}$', filter: true, search: 'prefix',
      description: 'SNOMED CT concept id.', example: '59621000',
    },
    description: { type: 'text', description: 'Notes for staff recording the problem.' },
  },
  admin: { group: 'Catalogs', icon: 'ClipboardList', listProperties: ['name', 'icd10_code', 'snomed_code'] },
});
