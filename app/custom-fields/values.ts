import type { CustomField, ValueColumn } from './types.js';
import { VALUE_COLUMN, VALUE_COLUMNS } from './types.js';

// How a custom field's value is written to, and read back from, the typed value columns.

/**
 * A multi_select value is stored as `|a|b|` (in the field's option order) so that "holds option
 * a" is one LIKE on the value column; options may not contain `|`.
 */
export function encodeMultiSelect(field: CustomField, values: readonly string[]): string {
  const chosen = new Set(values);
  return `|${(field.options ?? []).filter((o) => chosen.has(o)).join('|')}|`;
}

export function decodeMultiSelect(stored: string): string[] {
  return stored.split('|').filter((s) => s !== '');
}

/** The value columns of a row holding `value` (null clears every column). */
export function valueColumns(field: CustomField, value: unknown): Record<ValueColumn, unknown> & { is_set: boolean } {
  const columns = Object.fromEntries(VALUE_COLUMNS.map((c) => [c, null])) as Record<ValueColumn, unknown>;
  const set = value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0);
  if (set) columns[VALUE_COLUMN[field.type]] = field.type === 'multi_select' ? encodeMultiSelect(field, value as string[]) : value;
  return { ...columns, is_set: set };
}

/** The API value of a stored row (null when unset). */
export function storedValue(field: CustomField, row: Record<string, unknown>): unknown {
  if (!row.is_set) return null;
  const raw = row[VALUE_COLUMN[field.type]];
  if (raw === null || raw === undefined) return null;
  switch (field.type) {
    case 'multi_select': return decodeMultiSelect(String(raw));
    case 'integer': return Math.trunc(Number(raw));
    case 'number': return Number(raw);
    case 'boolean': return raw === true || raw === 1 || raw === '1' || raw === 't' || raw === 'true';
    default: return raw;
  }
}

/** The JSON Schema of one field's value (null clears it). */
export function valueSchema(field: CustomField): Record<string, unknown> {
  const describe = (schema: Record<string, unknown>) => {
    const text = [field.name, field.help_text ?? field.description].filter(Boolean).join(': ');
    return text ? { ...schema, description: text } : schema;
  };
  switch (field.type) {
    case 'text': return describe({ type: ['string', 'null'], maxLength: 500 });
    case 'long_text': return describe({ type: ['string', 'null'], maxLength: 10000 });
    case 'number': return describe({ type: ['number', 'null'] });
    case 'integer': return describe({ type: ['integer', 'null'], minimum: -2147483648, maximum: 2147483647 });
    case 'boolean': return describe({ type: ['boolean', 'null'] });
    case 'date': return describe({ type: ['string', 'null'], format: 'date' });
    case 'select': return describe({ type: ['string', 'null'], enum: [...(field.options ?? []), null] });
    case 'multi_select':
      return describe({ type: ['array', 'null'], items: { type: 'string', enum: [...(field.options ?? [])] }, uniqueItems: true, maxItems: Math.max(field.options?.length ?? 0, 1) });
  }
}
