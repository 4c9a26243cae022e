import { defineEntity } from '../app/core/define.js';

// A patient's value of one custom field: one row per patient and field, the value in the column
// of its type (app/custom-fields/). Served by the patient-chart plugin's field-values routes,
// which present `{key, value}` instead of the storage columns; the indexes lead with the field so
// that a filter or sort on one field reads only that field's values, in value order.

export default defineEntity({
  name: 'patient-field-value',
  path: 'field-values',
  table: 'patient_field_values',
  scope: 'patients',
  tenant: true,
  generatedRoutes: false,
  archivable: false,
  description: "A patient's value of one custom field.",
  parent: { resource: 'patient', field: 'patient_id' },
  auditReads: true,
  defaultSort: 'created_at',
  fields: {
    patient_id: { type: 'uuid', ref: 'patient', required: true, filter: true, description: 'The patient.' },
    field_definition_id: { type: 'uuid', ref: 'patient-field-definition', required: true, filter: true, description: 'The custom field.' },
    value_text: { type: 'string', maxLength: 2000, description: 'The value of text, select and multi_select (`|a|b|`) fields.' },
    value_long_text: { type: 'text', maxLength: 10000, description: 'The value of long_text fields (not indexed: they are matched with like only).' },
    value_number: { type: 'number', description: 'The value of number and integer fields.' },
    value_date: { type: 'date', description: 'The value of date fields.' },
    value_boolean: { type: 'boolean', description: 'The value of boolean fields.' },
    is_set: { type: 'boolean', default: false, filter: true, description: 'Whether the field has a value (null clears it; the row stays, with its history in the audit log).' },
  },
  // Field ids and patient ids belong to one organization already: the indexes need no org_id.
  indexes: [
    { columns: ['patient_id', 'field_definition_id'], unique: true, acrossOrganizations: true },
    { columns: ['field_definition_id', 'value_text', 'patient_id'], acrossOrganizations: true },
    { columns: ['field_definition_id', 'value_number', 'patient_id'], acrossOrganizations: true },
    { columns: ['field_definition_id', 'value_date', 'patient_id'], acrossOrganizations: true },
    { columns: ['field_definition_id', 'value_boolean', 'patient_id'], acrossOrganizations: true },
  ],
});
