import patients from '../../definitions/patients.js';
import type { FieldDefinition } from '../../app/core/types.js';
import { valueSchema } from '../../app/schema/json-schema.js';

// The lightweight patient item of the typeahead and the duplicate check (seed 001 §2.4: "only
// core identification fields (name, DOB, status, phone, email, chart number)"). The field list is
// this projection's own; each field's type and description come from the patient definition.

export const IDENTIFICATION_FIELDS = ['id', 'first_name', 'last_name', 'preferred_name', 'date_of_birth', 'chart_number', 'status', 'mobile_phone', 'email'] as const;

/** The JSON Schema of one item; `extra` adds the properties of a particular answer. */
export function identificationItem(extra: Record<string, unknown> = {}, required: string[] = []): Record<string, unknown> {
  const properties: Record<string, unknown> = { id: { type: 'string', format: 'uuid', description: 'The patient id.' } };
  for (const name of IDENTIFICATION_FIELDS) {
    if (name === 'id') continue;
    const field: FieldDefinition = patients.fields[name];
    const value: Record<string, unknown> = { ...valueSchema(field), ...(field.description ? { description: field.description } : {}) };
    properties[name] = field.required ? value : { ...value, type: [value.type as string, 'null'] };
  }
  return { type: 'object', properties: { ...properties, ...extra }, required: ['id', 'first_name', 'last_name', 'status', ...required], additionalProperties: false };
}
