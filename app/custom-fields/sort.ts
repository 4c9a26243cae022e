import type { Knex } from 'knex';
import type { FieldType } from '../core/types.js';
import { decodeCursorFor, encodeCursor } from '../operations/cursor.js';
import type { Cursor } from '../operations/list-query.js';
import type { CustomSort, ValuesTable } from './query.js';
import { VALUE_COLUMN, type CustomFieldType } from './types.js';

// `sort=field.<key>`: records with a value first, in value order read off the values table's
// (field, value, record) index, then records without one by id, in both directions. Reading the
// index in order and checking the records of each batch by primary key stops after one page,
// where joining the tables would sort every record of the organization.

type Row = Record<string, unknown>;

const CURSOR_TYPE: Readonly<Record<CustomFieldType, FieldType>> = {
  text: 'string', long_text: 'string', select: 'string', multi_select: 'string',
  number: 'number', integer: 'number', date: 'date', boolean: 'boolean',
};

/** The largest batch of values read at once (the ids of a batch go into one `in (…)` list). */
const MAX_BATCH = 5000;

export const customSortSignature = (sort: CustomSort) => `${sort.desc ? '-' : ''}field.${sort.field.key}`;

export function decodeCustomCursor(raw: string, sort: CustomSort): Cursor {
  return decodeCursorFor(raw, customSortSignature(sort), [CURSOR_TYPE[sort.field.type]]);
}

export function encodeCustomCursor(sort: CustomSort, id: unknown, value: unknown): string {
  const signature = customSortSignature(sort);
  return encodeCursor([{ field: signature, desc: false }], { id, [signature]: value ?? null });
}

export interface CustomSortPage {
  rows: Row[];
  hasNext: boolean;
  /** The sort value of each row (by id), for the cursor. */
  sortValues: Map<unknown, unknown>;
}

/**
 * One page in custom-field order. `records()` is the list's rows query (scope, filters, search):
 * the records of each batch of values are read through it, so only records the list may show are
 * kept.
 */
export async function fetchByCustomField(args: {
  conn: Knex;
  table: string;
  values: ValuesTable;
  sort: CustomSort;
  records: () => Knex.QueryBuilder;
  limit: number;
  offset: number;
  after?: Cursor;
  toDb: (column: string, value: unknown) => unknown;
  fromDb: (column: string, value: unknown) => unknown;
}): Promise<CustomSortPage> {
  const { conn, table, values, sort, limit } = args;
  const column = VALUE_COLUMN[sort.field.type];
  const dir = sort.desc ? 'desc' : 'asc';
  const want = limit + 1;
  const cursorValue = args.after ? args.after.values[0] : undefined;
  let skip = args.after ? 0 : args.offset;
  const rows: Row[] = [];
  const sortValues = new Map<unknown, unknown>();

  // Records with a value, unless the cursor is already past them: the values are read in index
  // order in growing batches and the records they belong to are kept if the list's conditions
  // hold for them (one query by id per batch). Reading the values alone keeps the plan the index
  // gives, whatever the planner's statistics say of either table.
  let exhausted = args.after !== undefined && cursorValue === null;
  let position: { v: unknown; id: unknown } | undefined = args.after && cursorValue !== null ? { v: args.toDb(column, cursorValue), id: args.after.id } : undefined;
  for (let batch = Math.max(want * 2, 100); !exhausted && rows.length < want; batch = Math.min(batch * 2, MAX_BATCH)) {
    const page = conn.from({ cfv: values.table })
      .select({ id: `cfv.${values.recordColumn}`, v: `cfv.${column}` })
      .where('cfv.field_definition_id', sort.field.id)
      .whereNotNull(`cfv.${column}`);
    if (position) page.whereRaw(`("cfv"."${column}", "cfv"."${values.recordColumn}") ${sort.desc ? '<' : '>'} (?, ?)`, [position.v, position.id]);
    const candidates = (await page.orderByRaw(`"cfv"."${column}" ${dir}, "cfv"."${values.recordColumn}" ${dir}`).limit(batch)) as { id: unknown; v: unknown }[];
    if (candidates.length < batch) exhausted = true;
    if (!candidates.length) break;
    const last = candidates[candidates.length - 1];
    position = { v: last.v, id: last.id };
    const live = new Map(((await args.records().select(`${table}.*`).whereIn(`${table}.id`, candidates.map((c) => c.id as string))) as Row[]).map((r) => [r.id, r]));
    for (const { id, v } of candidates) {
      const row = live.get(id);
      if (!row) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      rows.push(row);
      sortValues.set(id, args.fromDb(column, v));
      if (rows.length === want) break;
    }
  }

  if (rows.length < want) {
    const rest = args.records().select(`${table}.*`)
      .whereRaw(`"${table}"."id" not in (select "${values.recordColumn}" from "${values.table}" where "field_definition_id" = ? and "${column}" is not null)`, [sort.field.id]);
    if (args.after && cursorValue === null) rest.where(`${table}.id`, '>', args.after.id);
    rest.orderBy(`${table}.id`, 'asc').limit(want - rows.length);
    if (skip) rest.offset(skip);
    for (const row of (await rest) as Row[]) {
      rows.push(row);
      sortValues.set(row.id, null);
    }
  }
  const hasNext = rows.length > limit;
  return { rows: hasNext ? rows.slice(0, limit) : rows, hasNext, sortValues };
}
