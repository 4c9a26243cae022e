import { defineEntity } from '../app/core/define.js';

// Seed 001 §1.9 / §2.11 PatientRelationshipOut / §3.12: a directional relationship from the
// patient in the URL (from_patient) to another patient of the organization (to_patient). The
// inverse is not created. The seed's from_patient_name / to_patient_name are not stored (they
// would go stale when a patient is renamed): ?include=from_patient,to_patient embeds both
// patients, batched. A patient may not relate to itself (plugins/patient-chart).

export const RELATIONSHIP_TYPES = [
  'spouse', 'life_partner', 'parent', 'child', 'sibling', 'guardian', 'grandparent', 'grandchild',
  'stepparent', 'stepchild', 'foster_child', 'caregiver', 'other_family', 'merge', 'clone',
] as const;

export default defineEntity({
  name: 'patient-relationship',
  path: 'relationships',
  table: 'patient_relationships',
  scope: 'patients',
  tenant: true,
  description: 'A relationship from one patient to another (spouse, parent, guardian …); one-directional.',
  parent: { resource: 'patient', field: 'from_patient_id' },
  auditReads: true,
  requireBaseVersion: true,
  defaultSort: '-created_at',
  fields: {
    from_patient_id: {
      type: 'uuid', ref: 'patient', required: true, relation: 'from_patient',
      description: 'The source patient (taken from the URL); ?include=from_patient embeds it.',
    },
    to_patient_id: {
      type: 'uuid', ref: 'patient', relation: 'to_patient', required: true, createOnly: true, filter: true,
      description: 'The related patient, of the same organization and not the source itself; set on create only. ?include=to_patient embeds it.',
    },
    relationship_type: {
      type: 'enum', values: RELATIONSHIP_TYPES, required: true, filter: true,
      description: 'Type of relationship from the source patient to the target.', example: 'parent',
    },
    is_guardian: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether the source patient is the legal guardian of the target. Defaults to false.',
    },
    note: { type: 'text', maxLength: 2000, description: 'Free-text note.' },
  },
  admin: { group: 'Chart', icon: 'Users', listProperties: ['to_patient_id', 'relationship_type', 'is_guardian'] },
});
