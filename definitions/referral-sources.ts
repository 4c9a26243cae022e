import { defineEntity } from '../app/core/define.js';

// Marketing referral sources (seed 001 §2.13 `referral_source`): the channels a patient may have
// come through. The seed names the resource without describing it, so its fields are what a
// practice needs to pick and report on a source.

export default defineEntity({
  name: 'referral-source',
  path: 'referral-sources',
  table: 'referral_sources',
  scope: 'catalogs',
  tenant: true,
  description: 'A marketing channel new patients come through (a web search, a mailer, an event …); referral attributions point at one.',
  requireBaseVersion: true,
  defaultSort: 'name',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, unique: true, filter: true, sort: true, search: 'contains',
      description: 'Source name; unique within the organization (a duplicate is rejected with 409).', example: 'Google search',
    },
    channel: {
      type: 'enum', values: ['online', 'print', 'broadcast', 'event', 'word_of_mouth', 'other'], default: 'other', filter: true, sort: true,
      description: 'Kind of channel: online, print, broadcast, event, word_of_mouth, other (default).',
    },
    campaign_code: {
      type: 'string', maxLength: 100, filter: true,
      description: 'Campaign or tracking code, for reporting.', example: 'SPRING-2025',
    },
    description: { type: 'text', description: 'Notes for staff recording the attribution.' },
  },
  admin: { group: 'Catalogs', icon: 'Megaphone', listProperties: ['name', 'channel', 'campaign_code'] },
});
