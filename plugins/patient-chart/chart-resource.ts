import type { FieldDefinition } from '../../app/core/types.js';

// What every record on a patient's chart declares alike: nested under the patient (its id taken
// from the URL), the patients scope, tenancy, and reads audited like the patient's own.

export const ON_PATIENT_CHART = {
  scope: 'patients',
  tenant: true,
  parent: { resource: 'patient', field: 'patient_id' },
  auditReads: true,
} as const;

export const PATIENT_ID_FIELD: FieldDefinition = {
  type: 'uuid', ref: 'patient', required: true, relation: 'patient',
  description: 'The patient (taken from the URL).',
};
