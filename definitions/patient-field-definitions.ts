import { defineEntity } from '../app/core/define.js';
import { CUSTOM_FIELD_TYPES } from '../app/custom-fields/types.js';

// Seed 001 §1.13 / §2.15 PatientFieldDefinitionOut: the practice's custom patient fields. Each
// live row is a field of the organization's patients from the moment it commits, in every process
// (the patient-chart plugin's schema source), with no deploy and no change to any table. The seed
// leaves field_type's values open; these are ours. `key` is ours too: the name a field goes by in
// URLs (`?field.<key>=`) and bodies, derived from the name when a create leaves it out.

export default defineEntity({
  name: 'patient-field-definition',
  path: 'patient-field-definitions',
  table: 'patient_field_definitions',
  scope: 'catalogs',
  tenant: true,
  description: 'A custom patient field the practice defines: its type, choices, whether the form requires it and where it appears.',
  requireBaseVersion: true,
  defaultSort: 'item_order',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, filter: true, sort: true, search: 'contains',
      description: 'Label shown on the form.', example: 'Preferred pharmacy',
    },
    key: {
      type: 'string', maxLength: 40, pattern: '^[a-z][a-z0-9_]{0,39}$', unique: true, filter: true, sort: true, createOnly: true,
      description: 'The name the field goes by in URLs (`?field.<key>=`, `sort=field.<key>`) and field-value bodies: lower-case letters, digits and underscores, starting with a letter; unique within the organization and fixed once created. Derived from the name when left out (`Preferred pharmacy` → `preferred_pharmacy`).',
      example: 'preferred_pharmacy',
    },
    field_type: {
      type: 'enum', values: CUSTOM_FIELD_TYPES, required: true, filter: true,
      description: 'The type of the values: text (up to 500 characters), long_text (up to 10,000), number, integer, boolean, date (YYYY-MM-DD), select (one of dropdown_options) or multi_select (several). It cannot change once a patient has a value for the field.',
      example: 'select',
    },
    dropdown_options: {
      type: 'string[]', maxLength: 100,
      description: 'The choices of a select or multi_select field, in display order (required for those types, refused for others; distinct, without `|`). An option a patient has chosen cannot be removed.',
      example: ['Walgreens', 'CVS'],
    },
    is_required: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether the custom-fields form must be submitted with a value for it (see PUT …/field-values with `"form": true`). Defaults to false.',
    },
    item_order: {
      type: 'integer', default: 0, min: 0, max: 100000, sort: true, filter: true,
      description: 'Position on the form, lowest first. Defaults to 0.', example: 0,
    },
    description: { type: 'text', description: 'What the field is for (shown to administrators).' },
    help_text: { type: 'string', maxLength: 500, description: 'A hint shown under the field on the form.' },
  },
  admin: { group: 'Catalogs', icon: 'FormInput', listProperties: ['name', 'key', 'field_type', 'is_required', 'item_order'] },
});
