import type { ResolvedDefinition } from '../core/types.js';

// Custom fields: fields a practice defines as data, per organization, with no deploy and no DDL.
// Their values live in the rows of another resource (one row per record and field, with typed
// value columns), so filtering and sorting use that table's indexes, never a column per field.

export const CUSTOM_FIELD_TYPES = ['text', 'long_text', 'number', 'integer', 'boolean', 'date', 'select', 'multi_select'] as const;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

/** One organization's live custom field, as a schema generation holds it. */
export interface CustomField {
  /** The id of the field's definition row. */
  id: string;
  /** The name used in URLs and bodies: `field.<key>`. */
  key: string;
  name: string;
  type: CustomFieldType;
  /** The choices of select and multi_select fields, in display order. */
  options?: readonly string[];
  required: boolean;
  order: number;
  description?: string | null;
  help_text?: string | null;
}

/** The stored column that holds a value of each type. */
export type ValueColumn = 'value_text' | 'value_long_text' | 'value_number' | 'value_date' | 'value_boolean';
export const VALUE_COLUMNS: readonly ValueColumn[] = ['value_text', 'value_long_text', 'value_number', 'value_date', 'value_boolean'];

export const VALUE_COLUMN: Readonly<Record<CustomFieldType, ValueColumn>> = {
  text: 'value_text',
  long_text: 'value_long_text',
  select: 'value_text',
  multi_select: 'value_text',
  number: 'value_number',
  integer: 'value_number',
  date: 'value_date',
  boolean: 'value_boolean',
};

/** The columns a values resource must declare, besides its parent field. */
export const VALUES_RESOURCE_FIELDS = ['field_definition_id', ...VALUE_COLUMNS, 'is_set'] as const;

/** The custom fields of an organization on a definition that has them (none otherwise). */
export function customFieldsOf(def: ResolvedDefinition, orgId: string | undefined): readonly CustomField[] {
  if (!def.customFields || !orgId) return [];
  return def.customFields.byOrg?.[orgId] ?? [];
}

export function customFieldByKey(def: ResolvedDefinition, orgId: string | undefined, key: string): CustomField | undefined {
  return customFieldsOf(def, orgId).find((f) => f.key === key);
}
