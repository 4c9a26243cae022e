import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';
import type { ComputedFieldDefinition } from '../app/core/types.js';

// Seed 001 §1.5 / §2.8 PatientMedicationOut: a patient's medication list, nested under the
// patient. `medication_definition_uuid` and `provider_uuid` are `medication_definition_id` and
// `provider_id` here (?include=medication_definition,provider); med_descript is the free-text
// fallback when no catalog entry exists. The seed's `is_active` list filter is `status=active`
// (or `status[ne]=active`). `interaction_warnings` (§3.19) is filled only in the answer to a
// create, by the patient-chart plugin (plugins/patient-chart/interactions.ts); reads answer [].

/** Seed 001 §2.6/§2.8 `interaction_warnings`: drug-allergy conflicts found on create, never stored. */
export const INTERACTION_WARNINGS: ComputedFieldDefinition = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      allergy_id: { type: 'string', format: 'uuid', description: "The patient's allergy." },
      allergy_definition_id: { type: 'string', format: 'uuid', description: 'Its allergen in the allergy catalog.' },
      allergen: { type: 'string', description: 'The allergen name.' },
      medication_id: { type: 'string', format: 'uuid', description: "The patient's medication." },
      medication_definition_id: { type: ['string', 'null'], format: 'uuid', description: 'Its catalog entry, if any.' },
      medication: { type: 'string', description: 'The medication name (catalog name or med_descript).' },
      matched_on: { type: 'string', enum: ['rx_cui', 'ingredient'], description: 'rx_cui: the same RxNorm CUI; ingredient: the allergen is an active ingredient (generic_name) of the medication.' },
      severity: { type: ['string', 'null'], description: "The allergy's recorded severity." },
      message: { type: 'string', description: 'A sentence for the user.' },
    },
    required: ['allergy_id', 'allergy_definition_id', 'allergen', 'medication_id', 'medication_definition_id', 'medication', 'matched_on', 'severity', 'message'],
    additionalProperties: false,
  },
  description:
    "Drug-allergy interaction warnings detected on create: conflicts between this record and the patient's active drug allergies or active medications. Empty on subsequent reads (not stored).",
  compute: () => [],
};

export default defineEntity({
  name: 'patient-medication',
  path: 'medications',
  table: 'patient_medications',
  ...ON_PATIENT_CHART,
  description: "A medication on a patient's chart: a catalog entry or a free-text description, with dosage and prescriber.",
  requireBaseVersion: true,
  defaultSort: '-created_at',
  fields: {
    patient_id: PATIENT_ID_FIELD,
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
  computed: { interaction_warnings: INTERACTION_WARNINGS },
  admin: { group: 'Chart', icon: 'Pill', listProperties: ['medication_definition_id', 'med_descript', 'status', 'date_start'] },
});
