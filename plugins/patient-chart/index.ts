import { AppError } from '../../app/core/errors.js';
import { definePlugin, type WriteState } from '../../app/core/plugin.js';
import { versionConflict } from '../../app/operations/errors.js';
import { importDefinition, importRowDefinition } from './bulk-import/definitions.js';
import { runImportJob } from './bulk-import/job.js';
import { bulkImportRoute } from './bulk-import/route.js';
import { IMPORT_JOB } from './bulk-import/stage.js';

// The patient chart of seed 001: the status lifecycle (catalog §3.8), the archive and restore
// rules that go with it (§3.5, §3.12), and the chart's own rules (§3.19).

export const PATIENT_STATUSES = ['active', 'inactive', 'prospective', 'deceased', 'archived'] as const;
export type PatientStatus = (typeof PATIENT_STATUSES)[number];

/**
 * The moves transition-status allows, verbatim from the catalog. `deceased` is terminal and
 * `archived` is reached only through the archive endpoint, so neither has a way out here.
 */
export const ALLOWED_MOVES: Readonly<Record<PatientStatus, readonly PatientStatus[]>> = {
  prospective: ['active'],
  active: ['inactive', 'deceased'],
  inactive: ['active'],
  deceased: [],
  archived: [],
};

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
  routes: [bulkImportRoute],
  jobs: {
    // Readable with patients:read too: its report is about patients (rows, outcomes, ids).
    [IMPORT_JOB]: { handler: runImportJob, attempts: 5, backoffMs: 1000, readScope: 'patients:read' },
  },
  errors: {
    invalid_transition: { status: 422, description: 'The state change is not allowed from the current state.' },
    has_active_dependents: { status: 422, description: 'The patient is the guarantor of active patients; reassign them before archiving.' },
  },
  actions: [
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
  ],
  hooks: {
    beforeChange: [
      { resource: 'patient-medication', operations: ['create', 'update'], hook: requireNamedMedication },
      { resource: 'patient', operations: ['archive'], hook: refuseArchiveOfGuarantor },
      {
        resource: 'patient',
        operations: ['restore'],
        // A restored patient comes back inactive and must be re-activated with transition-status (§3.5).
        hook: (state) => {
          state.data.status = 'inactive';
        },
      },
    ],
  },
});
