import { AppError } from '../core/errors.js';
import type { Cursor, SortKey } from './list-query.js';

export function sortSignature(sort: SortKey[]): string {
  return sort.map((s) => (s.desc ? `-${s.field}` : s.field)).join(',');
}

/** Opaque to callers: base64url of the sort keys' values and the id of the last row. */
export function encodeCursor(sort: SortKey[], row: Record<string, unknown>): string {
  const payload = { s: sortSignature(sort), v: sort.map((k) => row[k.field] ?? null), id: row.id };
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

const invalid = () => new AppError('invalid_cursor', 'The cursor is invalid or malformed', [{ path: '/query/after', message: 'is not a cursor this list returned' }]);

export function decodeCursor(raw: string, sort: SortKey[]): Cursor {
  let payload: any;
  try {
    payload = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!payload || typeof payload !== 'object' || typeof payload.s !== 'string' || typeof payload.id !== 'string' || !Array.isArray(payload.v)) {
    throw invalid();
  }
  if (payload.s !== sortSignature(sort) || payload.v.length !== sort.length) {
    throw new AppError('invalid_cursor', 'The cursor was made for another sort order', [{ path: '/query/after', message: `use the same sort as the page it came from (${payload.s})` }]);
  }
  if (payload.v.some((v: unknown) => v !== null && typeof v === 'object')) throw invalid();
  return { sort: payload.s, values: payload.v, id: payload.id };
}
