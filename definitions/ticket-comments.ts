import { defineEntity } from '../app/core/define.js';

// Seed 002 "POST /tickets/{id}/comment" {Comment, Author}: append-only comments under a ticket.

export default defineEntity({
  name: 'ticket-comment',
  path: 'comments',
  table: 'ticket_comments',
  scope: 'tickets',
  tenant: true,
  description: 'A comment on a support ticket; comments are never edited or deleted.',
  appendOnly: true,
  parent: { resource: 'ticket', field: 'ticket_id' },
  defaultSort: 'created_at',
  fields: {
    ticket_id: {
      type: 'uuid', ref: 'ticket', required: true,
      description: 'The ticket this comment belongs to (taken from the URL).',
    },
    author: {
      type: 'string', required: true, minLength: 1, maxLength: 200, filter: true, defaultFrom: 'actor',
      description: 'Who wrote the comment: a name or an email address; the calling partner (or admin user) when left out.', example: 'Support Agent',
    },
    body: {
      type: 'text', required: true, minLength: 1, search: 'contains',
      description: 'The comment text.', example: 'This is a new comment',
    },
  },
  admin: { group: 'Support', icon: 'MessageSquare', listProperties: ['author', 'body', 'created_at'] },
});
