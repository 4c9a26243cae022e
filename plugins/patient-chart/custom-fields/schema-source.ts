import type { Knex } from 'knex';
import type { SchemaSource } from '../../../app/core/plugin.js';
import type { EntityDefinition } from '../../../app/core/types.js';
import type { CustomField, CustomFieldType } from '../../../app/custom-fields/types.js';

// Custom patient fields become part of the schema: every committed change to the field
// definitions builds a new schema generation (in this process at once, in others within a poll),
// whose patient definition carries each organization's live fields. Nothing about the tables
// changes, so a generation needs no DDL.

interface StoredFieldDefinition {
  id: string;
  org_id: string;
  key: string;
  name: string;
  field_type: CustomFieldType;
  dropdown_options: unknown;
  is_required: unknown;
  item_order: number | null;
  description: string | null;
  help_text: string | null;
}

const options = (raw: unknown): string[] | undefined => {
  const list = typeof raw === 'string' ? JSON.parse(raw) : raw;
  return Array.isArray(list) ? list.map(String) : undefined;
};

/** Each organization's live fields in form order (item_order, then name, then id). */
export async function storedCustomFields(db: Knex): Promise<Record<string, CustomField[]>> {
  const rows = (await db('patient_field_definitions')
    .whereNull('deleted_at')
    .orderBy([{ column: 'org_id' }, { column: 'item_order' }, { column: 'name' }, { column: 'id' }])
    .select('id', 'org_id', 'key', 'name', 'field_type', 'dropdown_options', 'is_required', 'item_order', 'description', 'help_text')) as StoredFieldDefinition[];
  const byOrg: Record<string, CustomField[]> = {};
  for (const r of rows) {
    const field: CustomField = {
      id: r.id, key: r.key, name: r.name, type: r.field_type, required: r.is_required === true || r.is_required === 1,
      order: r.item_order ?? 0, description: r.description, help_text: r.help_text,
    };
    if (r.field_type === 'select' || r.field_type === 'multi_select') field.options = options(r.dropdown_options) ?? [];
    (byOrg[r.org_id] ??= []).push(field);
  }
  return byOrg;
}

export const customFieldSchema: SchemaSource = {
  watch: ['patient-field-definition'],
  async apply(definitions: EntityDefinition[], db: Knex) {
    const byOrg = await storedCustomFields(db);
    return definitions.map((def) => (def.customFields ? { ...def, customFields: { ...def.customFields, byOrg } } : def));
  },
};
