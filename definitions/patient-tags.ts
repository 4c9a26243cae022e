import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';

// Tags on a patient (seed 001 §3.15): the seed filters patients by tag but documents no way to
// assign one (§4.1), so assignment is ours: POST assigns a tag from the practice's catalog
// (patient-tag-definitions), DELETE or POST …/archive unassigns it. Unassigning archives the
// assignment like every other chart record (SPEC: nothing clinical is hard-deleted), so the audit
// trail keeps who tagged whom and when. A tag is on a patient at most once among live assignments
// (a second assignment is a 409 duplicate); once unassigned, it may be assigned again.

export default defineEntity({
  name: 'patient-tag',
  path: 'tags',
  table: 'patient_tags',
  ...ON_PATIENT_CHART,
  description: "A tag from the practice's catalog assigned to a patient.",
  defaultSort: '-created_at',
  fields: {
    patient_id: PATIENT_ID_FIELD,
    tag_definition_id: {
      type: 'uuid', ref: 'patient-tag-definition', relation: 'tag_definition', required: true, createOnly: true, filter: true,
      description: "The tag, from the practice's catalog (patient-tag-definitions); an archived or unknown one is refused. Assigned at most once per patient.",
    },
    created_by: { type: 'string', readOnly: true, fill: 'actor', description: 'Who assigned the tag.' },
  },
  indexes: [{ columns: ['patient_id', 'tag_definition_id'], unique: true, live: true }],
  admin: { group: 'Chart', icon: 'Tag', listProperties: ['patient_id', 'tag_definition_id', 'created_at'] },
});
