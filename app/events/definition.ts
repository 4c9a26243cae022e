import { defineEntity } from '../core/define.js';

/**
 * The outbox: every domain event, written in the transaction of the change that caused it, so an
 * event exists exactly when its change committed. The dispatcher marks it delivered once every
 * subscriber has had it.
 */
export const outboxEventDefinition = defineEntity({
  name: 'outbox-event',
  path: 'outbox-events',
  table: 'outbox_events',
  scope: 'outbox-events',
  tenant: false,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  appendOnly: false,
  fields: {
    organization_id: { type: 'uuid', required: true, description: 'The organization of the change (the nil UUID for platform resources).' },
    type: { type: 'string', required: true, description: '`<resource>.created|updated|archived|restored`, or a plugin event.' },
    resource: { type: 'string', required: true },
    resource_id: { type: 'uuid' },
    actor: { type: 'string', required: true, description: '`<actor type>:<actor id>` of the change.' },
    payload: { type: 'json' },
    claimed_until: { type: 'datetime', description: 'Until when a dispatcher holds the event; an unfinished claim past it is picked up again.' },
    claimed_by: { type: 'string' },
    attempts: { type: 'integer', required: true, default: 0 },
    delivered_at: { type: 'datetime' },
    failed_at: { type: 'datetime', description: 'Set when delivery gave up after the last attempt.' },
    last_error: { type: 'string', description: 'The error code of the last failed delivery (never a message with data).' },
  },
  indexes: [{ columns: ['delivered_at', 'claimed_until'] }],
});
