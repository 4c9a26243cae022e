import { recordCountDefinition } from '../counts/definition.js';
import { outboxEventDefinition } from '../events/definition.js';
import { jobDefinition } from '../jobs/definition.js';
import { requestLogDefinition, requestUsageDayDefinition } from '../usage/definitions.js';
import { defineEntity } from './define.js';
import type { EntityDefinition } from './types.js';

// Tables the engine itself owns. They are definitions like any other (so schema sync, models and
// codecs come from the same generators) but `internal`: no generated routes.

export const organizationsDefinition = defineEntity({
  name: 'organization',
  path: 'organizations',
  table: 'organizations',
  scope: 'organizations',
  tenant: false,
  internal: true,
  archivable: false,
  defaultSort: 'slug',
  fields: {
    slug: { type: 'string', required: true, unique: true, sort: true, pattern: '^[a-z0-9][a-z0-9-]{1,62}$', description: 'URL segment of the organization.' },
    name: { type: 'string', required: true, maxLength: 200 },
  },
});

export const partnersDefinition = defineEntity({
  name: 'partner',
  path: 'partners',
  table: 'partners',
  scope: 'partners',
  tenant: false,
  internal: true,
  defaultSort: 'name',
  fields: {
    name: { type: 'string', required: true, unique: true, sort: true, maxLength: 200 },
    contact_email: { type: 'string', format: 'email' },
    company: { type: 'string', maxLength: 200 },
  },
});

export const apiKeysDefinition = defineEntity({
  name: 'api-key',
  path: 'api-keys',
  table: 'api_keys',
  scope: 'api-keys',
  tenant: false,
  internal: true,
  versioned: false,
  archivable: false,
  fields: {
    name: { type: 'string', required: true, maxLength: 200 },
    partner_id: { type: 'uuid', ref: 'partner', required: true },
    prefix: { type: 'string', required: true, unique: true, description: 'The visible start of the key, to recognize it.' },
    key_hash: { type: 'string', required: true, unique: true, description: 'SHA-256 of the whole key; the key itself is never stored.' },
    scopes: { type: 'string[]', required: true },
    org_ids: { type: 'string[]', required: true },
    rate_limit: { type: 'integer', min: 1, description: 'Requests per minute; the server default when null.' },
    expires_at: { type: 'datetime' },
    revoked_at: { type: 'datetime' },
    last_used_at: { type: 'datetime' },
    rotated_from: { type: 'uuid', description: 'The key this one replaced.' },
  },
});

export const idempotencyKeysDefinition = defineEntity({
  name: 'idempotency-key',
  path: 'idempotency-keys',
  table: 'idempotency_keys',
  scope: 'idempotency-keys',
  tenant: false,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  fields: {
    owner: { type: 'string', required: true, description: 'The principal the key belongs to.' },
    key: { type: 'string', required: true },
    request_hash: { type: 'string', required: true },
    status: { type: 'integer', description: 'Response status; null while the first request is in flight.' },
    response: { type: 'json' },
    headers: { type: 'json', description: 'Response headers replayed with the response (Location, ETag).' },
    expires_at: { type: 'datetime', required: true },
  },
  indexes: [{ columns: ['owner', 'key'], unique: true }, { columns: ['expires_at'] }],
});

export const settingsDefinition = defineEntity({
  name: 'setting',
  path: 'settings',
  table: 'settings',
  scope: 'settings',
  tenant: false,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  fields: {
    key: { type: 'string', required: true, unique: true },
    value: { type: 'text', required: true },
  },
});

/** The people who log in to the back office (admin/users.ts); never served by the API. */
export const adminUsersDefinition = defineEntity({
  name: 'admin-user',
  path: 'admin-users',
  table: 'admin_users',
  scope: 'admin-users',
  tenant: false,
  internal: true,
  archivable: false,
  defaultSort: 'email',
  fields: {
    email: { type: 'string', required: true, unique: true, sort: true, format: 'email', maxLength: 320, description: 'The login, kept in lower case.' },
    name: { type: 'string', required: true, maxLength: 200 },
    role: { type: 'enum', values: ['super_admin', 'practice_admin', 'support_agent'], required: true },
    organization_id: { type: 'uuid', ref: 'organization', description: 'The practice of a practice_admin; null for the other roles.' },
    active: { type: 'boolean', required: true, default: true },
    last_login_at: { type: 'datetime' },
    password_hash: { type: 'string', required: true, description: 'bcrypt hash; never shown.' },
    failed_logins: { type: 'integer', required: true, default: 0, min: 0, description: 'Failed logins in a row since the last success.' },
    locked_until: { type: 'datetime', description: 'Set when failed_logins reaches the limit; logins are refused until then.' },
  },
});

export const systemDefinitions: EntityDefinition[] = [organizationsDefinition, partnersDefinition, apiKeysDefinition, idempotencyKeysDefinition, settingsDefinition, adminUsersDefinition, outboxEventDefinition, jobDefinition, recordCountDefinition, requestLogDefinition, requestUsageDayDefinition];
