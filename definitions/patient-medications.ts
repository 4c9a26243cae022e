import { defineEntity } from '../app/core/define.js';

// Seed 001 §1.5 / §2.8 PatientMedicationOut: a patient's medication list, nested under the
// patient. `medication_definition_uuid` and `provider_uuid` are `medication_definition_id` and
// `provider_id` here (?include=medication_definition,provider); med_descript is the free-text
// fallback when no catalog entry exists. The seed's `is_active` list filter is `status=active`
// (or `status[ne]=active`). Not modelled: `interaction_warnings` (drug-allergy checks).

export default defineEntity({
  name: 'patient-medication',
  path: 'medications',
  table: 'patient_medications',
  scope: 'patients',
  tenant: true,
  description: "A medication on a patient's chart: a catalog entry or a free-text description, with dosage and prescriber.",
  parent: { resource: 'patient', field: 'patient_id' },
  auditReads: true,
  requireBaseVersion: true,
  defaultSort: '-created_at',
  fields: {
    patient_id: {
      type: 'uuid', ref: 'patient', required: true, relation: 'patient',
      description: 'The patient (taken from the URL).',
    },
    medication_definition_id: {
      type: 'uuid', ref: 'medication-definition', relation: 'medication_definition', filter: true,
      description: "The medication, from the practice's medication catalog (medication-definitions); leave out for a free-text medication (med_descript). An archived entry is refused.",
    },
    med_descript: {
      type: 'string', maxLength: 500, search: 'contains',
      description: 'Free-text medication name, used when no catalog entry exists.', example: 'Vitamin D3 1000 IU',
    },
    provider_id: {
      type: 'uuid', ref: 'provider', relation: 'provider', filter: true,
      description: 'The prescribing provider.',
    },
    date_start: { type: 'date', filter: true, sort: true, description: 'Start date.' },
    date_stop: { type: 'date', filter: true, sort: true, description: 'Stop date.' },
    dosage: { type: 'string', maxLength: 200, description: 'Dose per administration.', example: '1 capsule' },
    frequency: { type: 'string', maxLength: 200, description: 'How often.', example: 'three times daily' },
    route: { type: 'string', maxLength: 50, description: 'Route of administration.', example: 'oral' },
    rx_cui: { type: 'string', maxLength: 20, filter: true, description: 'RxNorm CUI.', example: '308191' },
    is_cpoe: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether this medication was entered via Computerized Provider Order Entry. Defaults to false.',
    },
    patient_note: { type: 'text', description: 'Note about this medication for this patient.' },
    status: {
      type: 'enum', values: ['active', 'completed', 'discontinued', 'on_hold'], default: 'active', filter: true, sort: true,
      description: 'Medication lifecycle status: active (default), completed, discontinued, on_hold.',
    },
    discontinuation_reason: { type: 'string', maxLength: 500, description: 'Why the medication was stopped.' },
  },
  admin: { group: 'Chart', icon: 'Pill', listProperties: ['medication_definition_id', 'med_descript', 'status', 'date_start'] },
});
