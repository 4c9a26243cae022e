import { defineEntity } from '../core/define.js';

// The API's request log and its daily roll-ups: tables the engine owns (internal, no routes). Only
// what the usage dashboard needs is kept: never a body, a query string or a concrete path.

/**
 * One row per API call, written in batches by the request log (app/usage/request-log.ts). Calls
 * without an organization (the token exchange, global resources) are kept under the nil org.
 */
export const requestLogDefinition = defineEntity({
  name: 'request-log',
  path: 'request-logs',
  table: 'request_logs',
  scope: 'request-logs',
  tenant: true,
  internal: true,
  appendOnly: true,
  readOnlyResource: true,
  versioned: false,
  archivable: false,
  audited: false,
  fields: {
    method: { type: 'string', required: true, maxLength: 10 },
    route: { type: 'string', required: true, maxLength: 300, description: 'The route template (`/api/v1/:org/patients/:id`), never the path asked for.' },
    status: { type: 'integer', required: true },
    duration_ms: { type: 'number', required: true },
    partner_id: { type: 'uuid' },
    key_id: { type: 'uuid', description: 'The API key (or the key a JWT was issued for); null when unauthenticated.' },
    ip: { type: 'string', maxLength: 64 },
  },
  // created_at is the call's time. Indexes: an organization's recent calls (org_id leads, as on
  // every tenant index), everyone's recent calls and the retention delete, a key's calls.
  indexes: [
    { columns: ['created_at'] },
    { columns: ['created_at'], acrossOrganizations: true },
    { columns: ['key_id', 'created_at'], acrossOrganizations: true },
  ],
});

/**
 * Calls per UTC day, organization, key and status class, with their summed duration and the last
 * call's time: kept exact in the transaction that writes each batch of the log, so the dashboard
 * reads a few hundred rows instead of counting the log.
 */
export const requestUsageDayDefinition = defineEntity({
  name: 'request-usage-day',
  path: 'request-usage-days',
  table: 'request_usage_days',
  scope: 'request-usage-days',
  tenant: true,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  fields: {
    day: { type: 'date', required: true, description: 'UTC day of the calls.' },
    key_id: { type: 'string', required: true, description: 'The API key\'s id; empty for calls without one (a unique key cannot hold nulls).' },
    status_class: { type: 'integer', required: true, description: 'The status divided by 100 (2 for 2xx …).' },
    calls: { type: 'integer', required: true },
    duration_ms_sum: { type: 'number', required: true },
    last_at: { type: 'datetime', required: true, description: 'Time of the latest of these calls.' },
  },
  // The upsert's conflict target and an organization's days; the days of all organizations.
  indexes: [
    { columns: ['day', 'key_id', 'status_class'], unique: true },
    { columns: ['day'], acrossOrganizations: true },
  ],
});
