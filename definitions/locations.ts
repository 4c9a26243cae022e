import { defineEntity } from '../app/core/define.js';

// A clinic site of the practice; patients have a home location.

export default defineEntity({
  name: 'location',
  path: 'locations',
  table: 'locations',
  scope: 'locations',
  tenant: true,
  description: 'A clinic site (office) of the practice.',
  defaultSort: 'name',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, unique: true, filter: true, sort: true,
      search: 'prefix', description: 'Name of the location; unique within the organization.', example: 'Downtown Clinic',
    },
    address_line1: { type: 'string', maxLength: 200, description: 'Street address, first line.' },
    address_line2: { type: 'string', maxLength: 200, description: 'Street address, second line (unit, suite).' },
    city: { type: 'string', maxLength: 100, filter: true, sort: true, description: 'City.' },
    state: { type: 'string', maxLength: 50, filter: true, description: 'State or province.' },
    postal_code: { type: 'string', maxLength: 20, filter: true, description: 'Postal or ZIP code.' },
    country: { type: 'string', maxLength: 100, filter: true, description: 'Country.' },
    phone: { type: 'string', maxLength: 30, description: 'Main phone number of the location.' },
    timezone: {
      type: 'string', maxLength: 64, filter: true,
      description: "IANA time zone of the location, e.g. 'America/Toronto'.", example: 'America/Toronto',
    },
    active: { type: 'boolean', default: true, filter: true, description: 'Whether the location is in use.' },
  },
  admin: { group: 'Practice', icon: 'MapPin', listProperties: ['name', 'city', 'state', 'phone', 'active'] },
});
