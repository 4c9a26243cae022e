import { AppError, validationError } from '../../app/core/errors.js';
import { definePlugin, type WriteState } from '../../app/core/plugin.js';
import { versionConflict } from '../../app/operations/errors.js';
import { importDefinition, importRowDefinition } from './bulk-import/definitions.js';
import { runImportJob } from './bulk-import/job.js';
import { bulkImportRoute } from './bulk-import/route.js';
import { IMPORT_JOB } from './bulk-import/stage.js';
import { countsByLocation } from './counts.js';
import { checkChoices, deriveKey, limitFieldCount, protectStoredValues } from './custom-fields/definition-rules.js';
import { fieldValueRoutes } from './custom-fields/routes.js';
import { customFieldSchema } from './custom-fields/schema-source.js';
import { checkDuplicates } from './duplicates.js';
import { familyActions, familyErrors, familyHooks, familyLists } from './family-alerts.js';
import { interactionHooks } from './interactions.js';
import { medicalSummary } from './medical-summary.js';
import { referralAttributionErrors, requireOneSource } from './referral-attributions.js';
import { searchPatients } from './search.js';
import { decimalBoundsProblems } from './vital-signs.js';

// The patient chart of seed 001: the status lifecycle (catalog §3.8), the archive and restore
// rules that go with it (§3.5, §3.12), and the chart's own rules (§3.19). The rest lives in its
// own files: family-alerts.ts (relationships, the guarantor family, alerts), custom-fields/
// (custom patient fields), search.ts, counts.ts and duplicates.ts (patient-level reads) and
// interactions.ts (drug-allergy warnings on create); vital-signs.ts holds the vital-sign limits,
// and the patient's latest_vitals_date (§3.9) is kept here.

import { ALLOWED_MOVES, PATIENT_STATUSES, type PatientStatus } from './statuses.js';

export { ALLOWED_MOVES, PATIENT_STATUSES, type PatientStatus };

/**
 * Seed 001 §3.19: a patient medication names its drug by a catalog entry or, failing that, by
 * free text (med_descript). A row with neither says nothing about what the patient takes, so a
 * create, or an update that would clear the last of the two, is refused.
 */
function requireNamedMedication(state: WriteState): void {
  const named = (v: unknown) => typeof v === 'string' && v.trim() !== '';
  const value = (field: string) => (field in state.data ? state.data[field] : state.current?.[field]);
  if (named(value('medication_definition_id')) || named(value('med_descript'))) return;
  throw new AppError('unprocessable', 'A medication needs medication_definition_id or med_descript', [
    { path: '/body/medication_definition_id', message: 'give a catalog entry or a free-text med_descript' },
    { path: '/body/med_descript', message: 'give a catalog entry or a free-text med_descript' },
  ]);
}

/**
 * Seed 001 §2.9: a reading's decimal values lie within the bounds of the vital-signs table (the
 * schema bounds the integers), and its diastolic pressure is below its systolic one.
 */
function checkVitalSigns(state: WriteState): void {
  const problems = decimalBoundsProblems(state.data);
  if (problems.length) throw validationError(problems);
  const value = (field: string) => (field in state.data ? state.data[field] : state.current?.[field]);
  const systolic = value('bp_systolic');
  const diastolic = value('bp_diastolic');
  if (typeof systolic === 'number' && typeof diastolic === 'number' && diastolic >= systolic) {
    throw new AppError('unprocessable', 'The diastolic blood pressure must be lower than the systolic', [
      { path: '/body/bp_diastolic', message: `must be lower than bp_systolic (${systolic})` },
    ]);
  }
}

/**
 * Seed 001 §3.9: the patient's `latest_vitals_date` is the latest `date_taken` of its live vital
 * signs (null when none), kept in the transaction of every vital-signs write that can move it.
 * It is a derived, read-only cache of chart data, not a change of the patient: it is written
 * without a new patient version or an audit row of its own (the vital-signs write is audited),
 * but the patients table is touched so that cached patient lists show it at once.
 */
async function refreshLatestVitalsDate(state: WriteState): Promise<void> {
  if (state.operation === 'update' && !('date_taken' in state.data)) return;
  const patientId = (state.record ?? state.current)!.patient_id as string;
  // Lock the patient first: concurrent vital-sign writes of one patient then take turns, and
  // each reads the others' committed rows (PostgreSQL; SQLite writes one at a time anyway).
  const [patient] = (await state.query('patient').where('id', patientId).select('latest_vitals_date').forUpdate()) as unknown as { latest_vitals_date: string | null }[];
  if (!patient) return;
  const [latest] = (await state.query('patient-vital-sign').where('patient_id', patientId).max('date_taken as date')) as unknown as { date: string | null }[];
  const date = latest?.date ?? null;
  if (date === patient.latest_vitals_date) return;
  await state.query('patient').where('id', patientId).patch({ latest_vitals_date: date } as never);
  state.touch('patient');
}

/** Refuses the archive of a guarantor while patients it answers for are still active. */
async function refuseArchiveOfGuarantor(state: WriteState): Promise<void> {
  const id = state.current!.id as string;
  // state.query leaves archived patients out already; a patient who is its own guarantor is no dependent.
  const dependents = (await state.query('patient')
    .where('responsible_party_id', id)
    .where('status', 'active')
    .whereNot('id', id)
    .count({ n: '*' })) as unknown as { n: number | string }[];
  const n = Number(dependents[0]?.n ?? 0);
  if (n > 0) {
    throw new AppError('has_active_dependents', `The patient is the guarantor of ${n} active patient${n === 1 ? '' : 's'}: reassign their responsible party first`, [
      { path: '/path/id', message: 'is the guarantor of active patients', active_dependents: n },
    ]);
  }
}

export default definePlugin({
  name: 'patient-chart',
  // Bulk import (seed 001 §1.1 Src#42, §2.4, §3.11): POST /patients/bulk, large imports as a job.
  definitions: [importDefinition, importRowDefinition],
  routes: [bulkImportRoute, ...fieldValueRoutes],
  jobs: {
    // Readable with patients:read too: its report is about patients (rows, outcomes, ids).
    [IMPORT_JOB]: { handler: runImportJob, attempts: 5, backoffMs: 1000, readScope: 'patients:read' },
  },
  errors: {
    invalid_transition: { status: 422, description: 'The state change is not allowed from the current state.' },
    has_active_dependents: { status: 422, description: 'The patient is the guarantor of active patients; reassign them before archiving.' },
    field_type_locked: { status: 422, description: "A custom field's type cannot change once a patient has a value for it." },
    option_in_use: { status: 422, description: 'A custom field option that patients have chosen cannot be removed.' },
    too_many_fields: { status: 422, description: 'The organization already has the most live custom fields allowed.' },
    ...familyErrors,
    ...referralAttributionErrors,
  },
  lists: familyLists,
  schema: customFieldSchema,
  actions: [
    searchPatients,
    countsByLocation,
    checkDuplicates,
    medicalSummary,
    {
      resource: 'patient',
      name: 'transition-status',
      on: 'record',
      summary: 'Move a patient to another lifecycle status',
      description:
        'Allowed moves: prospective → active; active → inactive or deceased; inactive → active. `deceased` is terminal; ' +
        '`archived` is reached with POST …/archive only. Any other move, or a move to the current status, is refused with ' +
        '`invalid_transition`. Each move emits the event `patient.<new_status>`.',
      input: {
        type: 'object',
        properties: {
          new_status: { type: 'string', enum: [...PATIENT_STATUSES], description: 'The status to move to.' },
          base_version: { type: 'integer', minimum: 1, description: 'The version the move is based on; a stale one is a version_conflict.' },
        },
        required: ['new_status', 'base_version'],
      },
      errors: ['invalid_transition', 'version_conflict'],
      run: ({ current, input, emit }) => {
        const record = current!;
        if (record.version !== input.base_version) throw versionConflict(record.version as number, input.base_version as number);
        const from = record.status as PatientStatus;
        const to = input.new_status as PatientStatus;
        if (from === to) {
          throw new AppError('invalid_transition', `The patient is already ${to}`, [{ path: '/body/new_status', message: `is the current status`, from, to }]);
        }
        if (!ALLOWED_MOVES[from]?.includes(to)) {
          const allowed = ALLOWED_MOVES[from]?.length ? `allowed from ${from}: ${ALLOWED_MOVES[from].join(', ')}` : `${from} allows no move`;
          throw new AppError('invalid_transition', `A patient cannot move from ${from} to ${to} (${allowed})`, [
            { path: '/body/new_status', message: `cannot follow ${from}`, from, to },
          ]);
        }
        emit(`patient.${to}`, { from, to });
        return { changes: { status: to } };
      },
    },
    ...familyActions,
  ],
  hooks: {
    beforeValidate: [...(familyHooks.beforeValidate ?? []), { resource: 'patient-field-definition', operations: ['create'], hook: deriveKey }],
    beforeChange: [
      ...familyHooks.beforeChange,
      { resource: 'patient-field-definition', operations: ['create', 'update'], hook: checkChoices },
      { resource: 'patient-field-definition', operations: ['update'], hook: protectStoredValues, errors: ['field_type_locked', 'option_in_use'] },
      { resource: 'patient-field-definition', operations: ['create', 'restore'], hook: limitFieldCount, errors: ['too_many_fields'] },
      { resource: 'patient-medication', operations: ['create', 'update'], hook: requireNamedMedication, errors: ['unprocessable'] },
      { resource: 'patient-vital-sign', operations: ['create', 'update'], hook: checkVitalSigns },
      { resource: 'patient-referral-attribution', operations: ['create'], hook: requireOneSource, errors: ['attribution_source_required', 'attribution_source_ambiguous'] },
      { resource: 'patient', operations: ['archive'], hook: refuseArchiveOfGuarantor, errors: ['has_active_dependents'] },
      {
        resource: 'patient',
        operations: ['restore'],
        // A restored patient comes back inactive and must be re-activated with transition-status (§3.5).
        hook: (state) => {
          state.data.status = 'inactive';
        },
      },
    ],
    afterChange: [
      ...interactionHooks,
      { resource: 'patient-vital-sign', operations: ['create', 'update', 'archive', 'restore'], hook: refreshLatestVitalsDate },
    ],
  },
});
