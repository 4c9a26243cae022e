import type { PluginRoute, Row } from '../../../app/core/plugin.js';
import { CUSTOM_FIELD_TYPES } from '../../../app/custom-fields/types.js';
import { fieldValuesForm, listFieldValues, upsertFieldValues } from './values.js';

// The custom field values of a patient over HTTP: each route hands its input to an operation in
// values.ts and returns what it answers.

const PATH = '/patients/:patient_id/field-values';

const VALUE_ITEM = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid', description: 'The value record.' },
    field_definition_id: { type: 'string', format: 'uuid' },
    key: { type: 'string' },
    name: { type: 'string' },
    field_type: { type: 'string', enum: [...CUSTOM_FIELD_TYPES] },
    value: { description: 'The value, typed by field_type (a list for multi_select); null when cleared.' },
    version: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'field_definition_id', 'key', 'field_type', 'value', 'version'],
};

const FORM_ITEM = {
  type: 'object',
  properties: {
    field_definition_id: { type: 'string', format: 'uuid' },
    key: { type: 'string' },
    name: { type: 'string' },
    field_type: { type: 'string', enum: [...CUSTOM_FIELD_TYPES] },
    dropdown_options: { type: ['array', 'null'], items: { type: 'string' } },
    is_required: { type: 'boolean' },
    item_order: { type: 'integer' },
    description: { type: ['string', 'null'] },
    help_text: { type: ['string', 'null'] },
    value: { description: "The patient's value, or null when unset." },
    value_id: { type: ['string', 'null'], format: 'uuid', description: 'The value record, when there is one.' },
    version: { type: ['integer', 'null'], description: "The value record's version." },
  },
  required: ['field_definition_id', 'key', 'name', 'field_type', 'is_required', 'item_order', 'value'],
};

const listEnvelope = (item: Row) => ({
  type: 'object',
  properties: {
    data: { type: 'array', items: item },
    total_count: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
    page_info: { $ref: '#/components/schemas/PageInfo' },
  },
  required: ['data'],
});

const param = (params: Record<string, string>) => params.patient_id;

export const fieldValueRoutes: PluginRoute[] = [
  {
    method: 'get',
    path: `${PATH}/form`,
    tenant: true,
    openapi: {
      resource: 'patient', access: 'read',
      summary: "A patient's custom fields form",
      description: "Every live custom field of the organization in form order (item_order, then name), each with the patient's value or null. Not paged.",
      response: { type: 'object', properties: { data: { type: 'array', items: FORM_ITEM } }, required: ['data'] },
    },
    handler: async ({ rt, ctx, params }) => ({ body: { data: await fieldValuesForm(rt, ctx!, param(params)) } }),
  },
  {
    method: 'get',
    path: PATH,
    tenant: true,
    openapi: {
      resource: 'patient', access: 'read',
      summary: "A patient's custom field values",
      description: 'The values set on the patient (fields without a value, and archived fields, are left out), 100 per page unless `limit` or `page_size` says otherwise.',
      query: {
        limit: { type: 'integer', minimum: 1, maximum: 100 }, offset: { type: 'integer', minimum: 0 },
        page: { type: 'integer', minimum: 1 }, page_size: { type: 'integer', minimum: 1, maximum: 100 },
      },
      response: listEnvelope(VALUE_ITEM),
    },
    handler: async ({ rt, ctx, params, query }) => ({ body: await listFieldValues(rt, ctx!, param(params), query) }),
  },
  {
    method: 'put',
    path: PATH,
    tenant: true,
    openapi: {
      resource: 'patient', access: 'write',
      summary: "Set or clear a patient's custom field values",
      description:
        'Upserts in one transaction: a value creates or updates the patient\'s value of that field, `null` clears it, a value equal to the stored one changes nothing. ' +
        'Give either `fields` (a list of `{key or field_definition_id, value}`) or `values` (an object by key). Each value is checked against its field\'s type; ' +
        'an unknown or archived field is a 400 naming it. A required field cannot be cleared, and with `"form": true` (the submitted form) every required field must hold a value afterwards. ' +
        'Answers the values written.',
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          fields: {
            type: 'array', maxItems: 100,
            items: {
              type: 'object', additionalProperties: false, required: ['value'],
              properties: { field_definition_id: { type: 'string', format: 'uuid' }, key: { type: 'string' }, value: { description: 'The value, or null to clear it.' } },
            },
          },
          values: { $ref: '#/components/schemas/PatientCustomFieldValues' },
          form: { type: 'boolean', description: 'This is the submitted custom-fields form: every required field must hold a value.' },
        },
      },
      response: { type: 'object', properties: { data: { type: 'array', items: VALUE_ITEM } }, required: ['data'] },
    },
    handler: async ({ rt, ctx, params, body }) => ({ body: { data: await upsertFieldValues(rt, ctx!, param(params), body) } }),
  },
];
