import type { RecordCodec } from '../core/schema-generation.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Dialect } from './dialect.js';

export type { RecordCodec };

/**
 * A shallow copy of a row, with `extra` laid over it. Assigning key by key: V8 spreads (or
 * Object.assign) an object of a stored record's 60-odd keys at half that speed, and the write
 * paths copy records several times each.
 */
export function copyRow(row: Record<string, unknown>, ...extra: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const source of [row, ...extra]) {
    for (const k of Object.keys(source)) {
      // An own `__proto__` key (JSON.parse makes them) stays a key, for the input checks to refuse.
      if (k === '__proto__') Object.defineProperty(out, k, { value: source[k], enumerable: true, writable: true, configurable: true });
      else out[k] = source[k];
    }
  }
  return out;
}

/**
 * Converts between API values and stored values, per field type and dialect. SQLite keeps
 * booleans as 0/1 and JSON as text; PostgreSQL has native boolean and jsonb.
 */
export function makeCodec(def: ResolvedDefinition, dialect: Dialect): RecordCodec {
  const booleans = def.columns.filter((c) => c.field.type === 'boolean').map((c) => c.name);
  const jsons = def.columns.filter((c) => c.field.type === 'json' || c.field.type === 'string[]').map((c) => c.name);
  const booleanSet = new Set(dialect.booleansAsIntegers ? booleans : []);
  const jsonSet = new Set(jsons);
  const types = new Map(def.columns.map((c) => [c.name, c.field.type]));

  return {
    toDb(values) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(values)) {
        const v = values[k];
        if (v === null || v === undefined) out[k] = v;
        else if (jsonSet.has(k)) out[k] = JSON.stringify(v);
        else if (booleanSet.has(k) && typeof v === 'boolean') out[k] = v ? 1 : 0;
        else out[k] = v;
      }
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
