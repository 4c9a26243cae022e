import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';

// Seed 001 §1.4 / §2.7 PatientDiseaseOut: a patient's problem list, nested under the patient.
// `disease_definition_uuid` is `disease_definition_id` here (?include=disease_definition). The
// seed names the lifecycle active -> resolved -> inactive but enforces only valid values, and so
// does this.

export default defineEntity({
  name: 'patient-disease',
  path: 'diseases',
  table: 'patient_diseases',
  ...ON_PATIENT_CHART,
  description: "A disease or problem on a patient's chart, naming a condition from the practice's catalog.",
  requireBaseVersion: true,
  defaultSort: '-created_at',
  fields: {
    patient_id: PATIENT_ID_FIELD,
    disease_definition_id: {
      type: 'uuid', ref: 'disease-definition', relation: 'disease_definition', required: true, filter: true,
      description: "The condition, from the practice's disease catalog (disease-definitions); an archived entry is refused.",
    },
    date_start: { type: 'date', filter: true, sort: true, description: 'Onset date.' },
    date_stop: { type: 'date', filter: true, sort: true, description: 'Resolution date.' },
    function_status: {
      type: 'enum', values: ['problem', 'cognitive_result', 'cognitive_problem', 'functional_result', 'functional_problem'],
      default: 'problem', filter: true,
      description: 'Clinical function classification per Meaningful Use. One of: problem (default), cognitive_result, cognitive_problem, functional_result, functional_problem.',
    },
    patient_note: { type: 'text', description: 'Note about this problem for this patient.' },
    problem_status: {
      type: 'enum', values: ['active', 'resolved', 'inactive'], default: 'active', filter: true, sort: true,
      description: 'Lifecycle status of the problem: active (default) -> resolved -> inactive.',
    },
    snomed_problem_type: { type: 'string', maxLength: 20, description: 'SNOMED CT problem type code.', example: '55607006' },
  },
  admin: { group: 'Chart', icon: 'ClipboardList', listProperties: ['disease_definition_id', 'problem_status', 'date_start'] },
});
