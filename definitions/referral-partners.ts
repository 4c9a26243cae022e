import { defineEntity } from '../app/core/define.js';

// Referral partners (seed 001 §2.13 `referral_partner`): outside practices and professionals
// that send patients. The seed names the resource without describing it, so its fields are what
// a practice needs to recognize and contact a partner.

export default defineEntity({
  name: 'referral-partner',
  path: 'referral-partners',
  table: 'referral_partners',
  scope: 'catalogs',
  tenant: true,
  description: 'An outside practice or professional who refers patients; referral attributions point at one.',
  requireBaseVersion: true,
  defaultSort: 'name',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, unique: true, filter: true, sort: true, search: 'contains',
      description: 'Partner name; unique within the organization (a duplicate is rejected with 409).', example: 'Lakeside Family Medicine',
    },
    partner_type: {
      type: 'enum', values: ['physician', 'dentist', 'specialist', 'clinic', 'business', 'other'], default: 'other', filter: true, sort: true,
      description: 'Kind of partner: physician, dentist, specialist, clinic, business, other (default).',
    },
    contact_name: { type: 'string', maxLength: 200, description: 'Person to contact at the partner.', example: 'Dr. Alan Reyes' },
    email: { type: 'string', format: 'email', maxLength: 254, filter: true, description: "Partner's email address.", example: 'referrals@lakeside.example' },
    phone: { type: 'string', maxLength: 30, description: "Partner's phone number." },
    notes: { type: 'text', description: 'Notes for staff.' },
  },
  admin: { group: 'Catalogs', icon: 'Handshake', listProperties: ['name', 'partner_type', 'contact_name'] },
});
