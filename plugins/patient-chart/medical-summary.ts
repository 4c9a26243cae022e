import type { ActionDefinition, FindSpec, Row } from '../../app/core/plugin.js';

// Seed 001 §1.7, §2.12, §3.16: `GET /patients/{id}/medical-summary`, the chart header of a
// clinical screen. It reads a fixed set of queries whatever the chart's size: the patient, one
// query per section and one per embedded catalog (each a batched `include`), every one limited to
// what the caller may read and audited like any list read.

/** The most rows of one section the summary carries (a chart longer than this is paged at the section's own route). */
export const SUMMARY_SECTION_LIMIT = 500;

const PAST_MEDICATION_STATUSES = ['completed', 'discontinued', 'on_hold'];
const ref = (subject: string) => ({ $ref: `#/components/schemas/${subject}` });
const listOf = (subject: string, what: string) => ({ type: 'array', description: what, items: ref(subject) });

export const medicalSummary: ActionDefinition = {
  resource: 'patient',
  name: 'medical-summary',
  on: 'record',
  method: 'get',
  access: 'read',
  summary: "A patient's medical summary (chart header)",
  description:
    'The chart in one answer: every live allergy (active or not, with `allergy_definition`), medications currently taken (status `active`) and past ones ' +
    '(`completed`, `discontinued` or `on_hold`), active problems (`problem_status` active, with `disease_definition`), the most recent vital signs ' +
    '(latest `date_taken`, then `time_taken`), active alerts (with `alert_definition`, urgency and scope), and the patient\'s `allergy_review_status`, ' +
    '`medical_urgent_note` and `premedication_required`. Catalog entries are embedded when the caller may read the catalogs (`catalogs:read`). ' +
    `Archived chart rows are left out; each section holds at most ${SUMMARY_SECTION_LIMIT} rows. ` +
    "Seed 001's `social_history` is not part of this API (there is no social-history resource). The number of database queries does not grow with the chart.",
  input: { type: 'object', properties: {} },
  output: {
    type: 'object',
    properties: {
      patient: { type: 'object', description: 'The patient (id and names).' },
      allergy_review_status: { type: ['string', 'null'] },
      medical_urgent_note: { type: ['string', 'null'] },
      premedication_required: { type: ['boolean', 'null'] },
      allergies: listOf('PatientAllergy', 'Every live allergy record, newest first, with `allergy_definition` embedded.'),
      current_medications: listOf('PatientMedication', 'Medications with status active, with `medication_definition` embedded.'),
      past_medications: listOf('PatientMedication', 'Medications completed, discontinued or on hold.'),
      active_problems: listOf('PatientDisease', "Problems with problem_status 'active', with `disease_definition` embedded."),
      latest_vitals: { oneOf: [ref('PatientVitalSign'), { type: 'null' }], description: 'The most recent vital signs, or null.' },
      alerts: listOf('PatientAlert', 'Active alerts, urgent first, with `alert_definition` embedded.'),
    },
    required: ['patient', 'allergies', 'current_medications', 'past_medications', 'active_problems', 'latest_vitals', 'alerts'],
  },
  async run({ current, find, read }) {
    const id = current!.id as string;
    // The catalog entries are embedded for callers who may read the catalogs; others get their ids.
    const readable = (resource: string) => {
      try {
        read(resource);
        return true;
      } catch {
        return false;
      }
    };
    const embed = (relation: string, resource: string) => (readable(resource) ? [relation] : []);
    const section = (resource: string, table: string, spec: Partial<FindSpec> = {}) =>
      find(resource, {
        limit: SUMMARY_SECTION_LIMIT,
        ...spec,
        where: (qb) => {
          qb.where(`${table}.patient_id`, id);
          spec.where?.(qb);
        },
      });
    const [patient] = (await find('patient', { limit: 1, where: (qb) => qb.where('patients.id', id) })).rows;
    const allergies = await section('patient-allergy', 'patient_allergies', { include: embed('allergy_definition', 'allergy-definition'), sort: [{ field: 'created_at', desc: true }] });
    const medications = await section('patient-medication', 'patient_medications', { include: embed('medication_definition', 'medication-definition'), sort: [{ field: 'created_at', desc: true }] });
    const problems = await section('patient-disease', 'patient_diseases', {
      include: embed('disease_definition', 'disease-definition'), sort: [{ field: 'created_at', desc: true }], where: (qb) => qb.where('patient_diseases.problem_status', 'active'),
    });
    const vitals = await section('patient-vital-sign', 'patient_vital_signs', { limit: 1, sort: [{ field: 'date_taken', desc: true }, { field: 'time_taken', desc: true }, { field: 'created_at', desc: true }] });
    const alerts = await section('patient-alert', 'patient_alerts', {
      include: embed('alert_definition', 'patient-alert-definition'), sort: [{ field: 'is_urgent', desc: true }, { field: 'created_at', desc: true }], where: (qb) => qb.where('patient_alerts.status', 'active'),
    });
    const pick = (row: Row | undefined, name: string) => row?.[name] ?? null;
    return {
      result: {
        patient: { id, first_name: pick(patient, 'first_name'), last_name: pick(patient, 'last_name'), preferred_name: pick(patient, 'preferred_name') },
        allergy_review_status: pick(patient, 'allergy_review_status'),
        medical_urgent_note: pick(patient, 'medical_urgent_note'),
        premedication_required: pick(patient, 'premedication_required'),
        allergies: allergies.rows,
        current_medications: medications.rows.filter((m) => m.status === 'active'),
        past_medications: medications.rows.filter((m) => PAST_MEDICATION_STATUSES.includes(m.status as string)),
        active_problems: problems.rows,
        latest_vitals: vitals.rows[0] ?? null,
        alerts: alerts.rows,
      },
    };
  },
};
