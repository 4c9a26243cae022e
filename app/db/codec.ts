import type { RecordCodec } from '../core/schema-generation.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Dialect } from './dialect.js';

export type { RecordCodec };

/**
 * Converts between API values and stored values, per field type and dialect. SQLite keeps
 * booleans as 0/1 and JSON as text; PostgreSQL has native boolean and jsonb.
 */
export function makeCodec(def: ResolvedDefinition, dialect: Dialect): RecordCodec {
  const booleans = def.columns.filter((c) => c.field.type === 'boolean').map((c) => c.name);
  const jsons = def.columns.filter((c) => c.field.type === 'json' || c.field.type === 'string[]').map((c) => c.name);
  const types = new Map(def.columns.map((c) => [c.name, c.field.type]));

  return {
    toDb(values) {
      const out: Record<string, unknown> = { ...values };
      for (const k of jsons) if (out[k] !== undefined && out[k] !== null) out[k] = JSON.stringify(out[k]);
      if (dialect.booleansAsIntegers) for (const k of booleans) if (typeof out[k] === 'boolean') out[k] = out[k] ? 1 : 0;
      return out;
    },
    fromDb(row) {
      if (dialect.booleansAsIntegers) for (const k of booleans) if (row[k] !== null && row[k] !== undefined) row[k] = row[k] === 1 || row[k] === true;
      if (dialect.jsonAsText) {
        for (const k of jsons) if (typeof row[k] === 'string') row[k] = JSON.parse(row[k] as string);
      }
      return row;
    },
    scalarToDb(field, value) {
      if (value === null || value === undefined) return value;
      const type = types.get(field);
      if (type === 'boolean' && dialect.booleansAsIntegers) return value ? 1 : 0;
      if (type === 'datetime') return new Date(String(value)).toISOString();
      return value;
    },
  };
}
