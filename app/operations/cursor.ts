import { AppError } from '../core/errors.js';
import { isUuid } from '../core/ids.js';
import type { FieldType, ResolvedDefinition } from '../core/types.js';
import type { Cursor, SortKey } from './list-query.js';

export function sortSignature(sort: SortKey[]): string {
  return sort.map((s) => (s.desc ? `-${s.field}` : s.field)).join(',');
}

/** Opaque to callers: base64url of the sort keys' values and the id of the last row. */
export function encodeCursor(sort: SortKey[], row: Record<string, unknown>): string {
  const payload = { s: sortSignature(sort), v: sort.map((k) => row[k.field] ?? null), id: row.id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** Whether a decoded cursor value can stand for a value of a column of this type in a query. */
function fitsType(type: FieldType | undefined, v: unknown): boolean {
  if (v === null) return true;
  if (typeof v === 'string' && v.includes('\u0000')) return false;
  switch (type) {
    case 'integer': return Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647;
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'date': return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v);
    case 'datetime': return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));
    case 'uuid': return isUuid(v);
    default: return typeof v === 'string';
  }
}

const invalid = () => new AppError('invalid_cursor', 'The cursor is invalid or malformed', [{ path: '/query/after', message: 'is not a cursor this list returned' }]);

export function decodeCursor(raw: string, sort: SortKey[], def: ResolvedDefinition): Cursor {
  const types = sort.map((k) => def.columns.find((c) => c.name === k.field)?.field.type);
  return decodeCursorFor(raw, sortSignature(sort), types);
}

/** Decodes a cursor made for the sort `signature`, whose values have these column types. */
export function decodeCursorFor(raw: string, signature: string, types: (FieldType | undefined)[]): Cursor {
  let payload: any;
  try {
    payload = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!payload || typeof payload !== 'object' || typeof payload.s !== 'string' || typeof payload.id !== 'string' || !Array.isArray(payload.v)) {
    throw invalid();
  }
  if (payload.s !== signature || payload.v.length !== types.length) {
    throw new AppError('invalid_cursor', 'The cursor was made for another sort order', [{ path: '/query/after', message: `use the same sort as the page it came from (${payload.s})` }]);
  }
  if (!isUuid(payload.id)) throw invalid();
  if (payload.v.some((v: unknown, i: number) => !fitsType(types[i], v))) throw invalid();
  return { sort: payload.s, values: payload.v, id: payload.id };
}
