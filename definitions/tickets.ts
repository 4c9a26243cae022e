import { defineEntity } from '../app/core/define.js';

// Seed 002 "Tickets": support tickets raised by a practice, with comments (ticket-comments.ts).

export default defineEntity({
  name: 'ticket',
  path: 'tickets',
  table: 'tickets',
  scope: 'tickets',
  tenant: true,
  description: 'A support ticket raised by the practice; comments are embedded with ?include=comments.',
  defaultSort: '-created_at',
  fields: {
    subject: {
      type: 'string', required: true, minLength: 1, maxLength: 300, search: 'contains', sort: true,
      description: 'One-line summary of the issue.', example: 'Cannot print superbills',
    },
    description: { type: 'text', search: 'contains', description: 'Full description of the issue.' },
    status: {
      type: 'enum', values: ['open', 'pending', 'resolved', 'closed'], default: 'open', filter: true, sort: true,
      description: 'Ticket status: open (default), pending, resolved, closed.',
    },
    priority: {
      type: 'enum', values: ['low', 'normal', 'high', 'urgent'], default: 'normal', filter: true, sort: true,
      description: 'Ticket priority: low, normal (default), high, urgent.',
    },
    requester: {
      type: 'string', required: true, minLength: 1, maxLength: 200, filter: true, defaultFrom: 'actor',
      description: 'Who raised the ticket: a name or an email address; the calling partner (or admin user) when left out.', example: 'front.desk@example.com',
    },
    assignee: {
      type: 'string', maxLength: 200, filter: true,
      description: 'Who is working on the ticket: a name or an email address.', example: 'Support Agent',
    },
    patient_id: {
      type: 'uuid', ref: 'patient', relation: 'patient', filter: true,
      description: 'The patient the ticket is about, if any.',
    },
  },
  hasMany: { comments: { resource: 'ticket-comment', foreignKey: 'ticket_id' } },
  indexes: [{ columns: ['status', 'priority'] }],
  admin: { group: 'Support', icon: 'LifeBuoy', listProperties: ['subject', 'status', 'priority', 'requester', 'assignee'] },
});
