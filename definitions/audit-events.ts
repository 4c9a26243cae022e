import { defineEntity } from '../app/core/define.js';

// The audit trail: one row per audited write (and per read of resources with auditReads).
// Written only by the engine; readable through the API by holders of the `audit` scope.

export default defineEntity({
  name: 'audit-event',
  path: 'audit-events',
  table: 'audit_events',
  scope: 'audit',
  tenant: true,
  description: 'An audit-trail entry: who did what to which record, and when.',
  appendOnly: true,
  readOnlyResource: true,
  audited: false,
  defaultSort: '-created_at',
  fields: {
    actor_type: {
      type: 'enum', values: ['api_key', 'admin_user', 'system'], filter: true,
      description: 'Kind of caller that acted: api_key, admin_user or system.',
    },
    actor_id: { type: 'string', maxLength: 200, filter: true, description: 'Identifier of the caller (API key id, admin user id).' },
    actor_label: { type: 'string', maxLength: 200, description: 'Human-readable name of the caller at the time.' },
    action: {
      type: 'string', maxLength: 50, filter: true,
      description: 'What was done, e.g. create, update, archive, restore, read, list.', example: 'update',
    },
    resource: {
      type: 'string', maxLength: 100, filter: true,
      description: 'Definition name of the resource acted on.', example: 'patient',
    },
    resource_id: {
      type: 'string', maxLength: 100, filter: true,
      description: 'Id of the record acted on (usually a UUID).',
    },
    changes: {
      type: 'json',
      description: 'Changed fields as {field: {before, after}}.',
      example: { status: { before: 'active', after: 'inactive' } },
    },
    metadata: { type: 'json', description: 'Extra detail, e.g. the ids seen by a list read.' },
    request_id: { type: 'string', maxLength: 100, filter: true, description: 'Id of the HTTP request that caused the event.' },
    ip: { type: 'string', maxLength: 64, description: 'IP address of the caller.' },
  },
  indexes: [{ columns: ['resource', 'resource_id'] }, { columns: ['actor_id'] }, { columns: ['created_at'] }],
  admin: { group: 'Security', icon: 'Shield', listProperties: ['created_at', 'actor_label', 'action', 'resource', 'resource_id'] },
});
