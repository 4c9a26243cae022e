import { defineEntity } from '../../../app/core/define.js';

// Where a patient import that runs as a job keeps its input and its place, durably (not in Redis):
// the request's rows are staged before the 202, and the job applies them chunk by chunk, moving
// the import's cursor in the same transaction as each chunk's writes. A runner that dies
// mid-chunk leaves the cursor where it was (the chunk rolled back), so nothing is lost or doubled.
// The rows are staged as the request body streams in, each chunk committed on its own, under an
// import in state `staging` that has no job yet; one short transaction at the end enqueues the
// job and makes it `ready` (see stage.ts).

export const importDefinition = defineEntity({
  name: 'patient-import',
  path: 'patient-imports',
  table: 'patient_imports',
  scope: 'patients',
  tenant: true,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  description: 'A patient import run as a job: its options, who started it, its cursor and counts.',
  fields: {
    job_id: { type: 'uuid', unique: true, description: 'The job that applies it (set when staging ends).' },
    state: { type: 'enum', values: ['staging', 'ready'], description: 'staging: its rows are still arriving, and no job exists; ready: its job applies it.' },
    mode: { type: 'enum', values: ['validate', 'apply'], required: true },
    on_conflict: { type: 'enum', values: ['skip', 'update', 'fail'], required: true },
    match_on: { type: 'string', required: true },
    total: { type: 'integer', required: true, description: 'Rows in the import.' },
    cursor: { type: 'integer', required: true, description: 'Rows numbered below it are done.' },
    created: { type: 'integer', required: true },
    updated: { type: 'integer', required: true },
    skipped: { type: 'integer', required: true },
    failed: { type: 'integer', required: true },
    validated: { type: 'integer', required: true },
    // The job acts as the caller did: the same actor in the audit trail, the same permissions.
    actor: { type: 'json', required: true },
    rules: { type: 'json', required: true, description: 'The caller\'s CASL rules when the import started.' },
    org: { type: 'json', required: true },
    request_id: { type: 'string' },
  },
});

export const importRowDefinition = defineEntity({
  name: 'patient-import-row',
  path: 'patient-import-rows',
  table: 'patient_import_rows',
  scope: 'patients',
  tenant: true,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  description: 'A staged row of a patient import: removed once applied; a failed row keeps only its errors.',
  fields: {
    import_id: { type: 'uuid', required: true },
    row_index: { type: 'integer', required: true, description: 'The row\'s number in the import (0-based).' },
    data: { type: 'json', sensitive: true },
    duplicate_of: { type: 'integer', description: 'An earlier row of the import with the same match key.' },
    errors: { type: 'json' },
  },
  indexes: [{ columns: ['import_id', 'row_index'], unique: true }],
});
