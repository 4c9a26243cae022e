// Custom fields in the OpenAPI document. The full document says how they work; the document of
// one organization (`/api/openapi.json?org=<slug>`) lists that organization's fields: a filter
// parameter per field and operator, the sortable keys, and the typed values object.

import { CUSTOM_OPERATORS, customParamName, filterValueSchema, isSortable } from '../custom-fields/query.js';
import type { CustomField } from '../custom-fields/types.js';
import { valueSchema } from '../custom-fields/values.js';
import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Obj } from './common.js';
import { collectionPath } from './names.js';

const OP_TEXT: Record<string, string> = {
  eq: 'equals', ne: 'is not (or has no value)', gt: 'is greater than', gte: 'is at least', lt: 'is less than', lte: 'is at most',
  in: 'is one of (comma-separated)', like: 'contains the text (case-insensitive)', null: 'has no value (`true`) or has one (`false`)',
};

/** The component schema of a definition's custom field values, by key. */
export const customValuesSchemaName = (def: ResolvedDefinition) => `${def.subject}CustomFieldValues`;

const HOW =
  "Custom fields: each organization defines its own (see its catalog of field definitions). Filter with `field.<key>=` and the operators of the field's type " +
  '(`field.<key>[gte]=`, `[in]`, `[like]` for text, `[null]`), sort with `sort=field.<key>` or `sort=-field.<key>` as the only sort key ' +
  '(records without a value come last in both directions; ties by id). `GET /api/openapi.json?org=<slug>` lists the fields of an organization.';

/** Adds the custom fields of `fields` (one organization's, or none for the full document) to the document. */
export function addCustomFieldDocs(registry: Registry, paths: Record<string, Obj>, schemas: Obj, fieldsByResource: Record<string, readonly CustomField[]> | undefined): void {
  for (const def of registry.exposed()) {
    if (!def.customFields) continue;
    const fields = fieldsByResource?.[def.name];
    schemas[customValuesSchemaName(def)] = fields
      ? { type: 'object', additionalProperties: false, properties: Object.fromEntries(fields.map((f) => [f.key, valueSchema(f)])), description: `The custom fields of this organization's ${def.path}, by key; null clears a value.` }
      : { type: 'object', additionalProperties: true, description: `Custom field values by key; null clears a value. The organization's own document (\`/api/openapi.json?org=<slug>\`) types each field.` };
    const list = paths[collectionPath(registry, def)]?.get as Obj | undefined;
    if (!list) continue;
    list.description = `${list.description ?? ''}\n\n${HOW}`.trim();
    if (!fields) continue;
    for (const field of fields) {
      for (const op of CUSTOM_OPERATORS[field.type]) {
        list.parameters.push({
          name: customParamName(field.key, op), in: 'query', required: false,
          description: `Custom field \`${field.key}\` (${field.name}, ${field.type}) ${OP_TEXT[op]}.`,
          schema: filterValueSchema(field, op),
          ...(op === 'in' ? { style: 'form', explode: false } : {}),
        });
      }
    }
    const sortable = fields.filter(isSortable).map((f) => `\`field.${f.key}\``);
    const sort = (list.parameters as Obj[]).find((p) => p.name === 'sort');
    if (sort && sortable.length) sort.description = `${sort.description ?? ''} Custom fields: ${sortable.join(', ')}.`.trim();
  }
}
