import { defineEntity } from '../core/define.js';

// Every background job, whichever backend runs it: the row is the job's record (status, progress,
// result, error), read through the API and never written by it. Platform jobs belong to the nil
// UUID org (PLATFORM_ORG_ID).

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;

export const jobDefinition = defineEntity({
  name: 'job',
  path: 'jobs',
  table: 'jobs',
  scope: 'jobs',
  tenant: true,
  description: 'A background job (import, export, webhook delivery, ...) and its progress.',
  readOnlyResource: true,
  versioned: false,
  archivable: false,
  audited: false,
  defaultSort: '-created_at',
  fields: {
    type: { type: 'string', readOnly: true, filter: true, maxLength: 100, description: 'What the job does, e.g. patients.import.', example: 'patients.import' },
    status: { type: 'enum', values: JOB_STATUSES, readOnly: true, filter: true, sort: true, description: 'queued, running, completed or failed.' },
    progress: { type: 'integer', readOnly: true, min: 0, max: 100, description: 'Percent done, 0-100.' },
    attempts: { type: 'integer', readOnly: true, description: 'Attempts started so far, the current one included.' },
    max_attempts: { type: 'integer', readOnly: true, description: 'Attempts allowed before the job fails.' },
    payload: { type: 'json', readOnly: true, sensitive: true, description: 'The input the job was enqueued with; may carry patient data.' },
    checkpoint: { type: 'json', readOnly: true, sensitive: true, description: 'What the job recorded as done, so an interrupted attempt resumes there.' },
    result: { type: 'json', readOnly: true, description: 'What the job produced once completed.' },
    error: { type: 'json', readOnly: true, description: 'The last failure as {code, message}.', example: { code: 'job_failed', message: 'The file has no header row' } },
    dedupe_key: { type: 'string', readOnly: true, unique: true, maxLength: 200, description: 'Enqueueing again with this key returns the existing job.' },
    run_at: { type: 'datetime', readOnly: true, description: 'When the job (or its next attempt) becomes due.' },
    locked_until: { type: 'datetime', readOnly: true, description: 'End of the running attempt\'s lease; past it, the job is taken to be abandoned.' },
    locked_by: { type: 'string', readOnly: true, description: 'The runner holding the job.' },
    finished_at: { type: 'datetime', readOnly: true, description: 'When the job completed or finally failed.' },
  },
  // The runners poll across every organization for due and abandoned jobs.
  indexes: [
    { columns: ['status', 'run_at'], acrossOrganizations: true },
    { columns: ['status', 'locked_until'], acrossOrganizations: true },
  ],
  admin: { group: 'System', icon: 'Clock', listProperties: ['created_at', 'type', 'status', 'progress', 'attempts'] },
});
