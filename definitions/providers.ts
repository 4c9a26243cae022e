import { defineEntity } from '../app/core/define.js';

// A clinician of the practice; patients point at one as primary or secondary provider.

export default defineEntity({
  name: 'provider',
  path: 'providers',
  table: 'providers',
  scope: 'providers',
  tenant: true,
  description: 'A clinician who sees patients at the practice.',
  defaultSort: 'last_name',
  fields: {
    first_name: {
      type: 'string', required: true, minLength: 1, maxLength: 100, filter: true, sort: true, search: 'prefix',
      description: "Provider's first name.", example: 'Jane',
    },
    last_name: {
      type: 'string', required: true, minLength: 1, maxLength: 100, filter: true, sort: true, search: 'prefix',
      description: "Provider's last name (surname).", example: 'Smith',
    },
    title: {
      type: 'string', maxLength: 50, filter: true,
      description: "Professional title or credential, e.g. 'PA-C', 'MD'.", example: 'PA-C',
    },
    specialty: {
      type: 'string', maxLength: 100, filter: true, sort: true,
      description: 'Clinical specialty.', example: 'Aesthetics',
    },
    npi: {
      type: 'string', pattern: '^\\d{10}$', unique: true, filter: true, search: 'prefix',
      description: 'National Provider Identifier (10 digits); unique within the organization.', example: '1234567893',
    },
    email: {
      type: 'string', format: 'email', maxLength: 254, filter: true,
      description: "Provider's email address.", example: 'jane.smith@example.com',
    },
    phone: { type: 'string', maxLength: 30, description: "Provider's phone number." },
    active: {
      type: 'boolean', default: true, filter: true,
      description: 'Whether the provider currently sees patients.',
    },
  },
  admin: { group: 'Practice', icon: 'Stethoscope', listProperties: ['last_name', 'first_name', 'title', 'specialty', 'active'] },
});
