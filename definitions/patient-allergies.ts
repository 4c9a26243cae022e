import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';
import { INTERACTION_WARNINGS } from './patient-medications.js';

// Seed 001 §1.3 / §2.6 PatientAllergyOut: a patient's allergies, nested under the patient.
// `allergy_definition_uuid` is `allergy_definition_id` here (embedded with
// ?include=allergy_definition); the seed's `is_active` list filter is `status_is_active=`.
// `interaction_warnings` (§3.19) is filled only in the answer to a create (see patient-medications.ts).

export default defineEntity({
  name: 'patient-allergy',
  path: 'allergies',
  table: 'patient_allergies',
  ...ON_PATIENT_CHART,
  description: "An allergy on a patient's chart, naming an allergen from the practice's catalog.",
  requireBaseVersion: true,
  defaultSort: '-created_at',
  fields: {
    patient_id: PATIENT_ID_FIELD,
    allergy_definition_id: {
      type: 'uuid', ref: 'allergy-definition', relation: 'allergy_definition', required: true, filter: true,
      description: "The allergen, from the practice's allergy catalog (allergy-definitions); an archived entry is refused.",
    },
    date_adverse_reaction: { type: 'date', filter: true, sort: true, description: 'Date of the adverse reaction.' },
    reaction: { type: 'string', maxLength: 500, description: 'Reaction observed.', example: 'Hives' },
    severity: { type: 'string', maxLength: 50, filter: true, description: 'Severity (free text).', example: 'moderate' },
    snomed_reaction: { type: 'string', maxLength: 20, description: 'SNOMED CT code of the reaction.', example: '247472004' },
    status_is_active: {
      type: 'boolean', default: true, filter: true,
      description: 'Whether this allergy is currently active. Defaults to true.',
    },
  },
  computed: { interaction_warnings: INTERACTION_WARNINGS },
  admin: { group: 'Chart', icon: 'ShieldAlert', listProperties: ['allergy_definition_id', 'reaction', 'severity', 'status_is_active'] },
});
