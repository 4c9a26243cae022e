import type { Knex } from 'knex';
import type { FieldType } from '../core/types.js';
import { decodeCursorFor, encodeCursor } from '../operations/cursor.js';
import type { Cursor } from '../operations/list-query.js';
import type { CustomSort, ValuesTable } from './query.js';
import { VALUE_COLUMN, type CustomFieldType } from './types.js';

// `sort=field.<key>`: records with a value first, in value order read off the values table's
// (field, value, record) index, then records without one by id, in both directions. Reading the
// index in order and checking each record's conditions by primary key stops after one page,
// where joining the tables would sort every record of the organization.

type Row = Record<string, unknown>;

const CURSOR_TYPE: Readonly<Record<CustomFieldType, FieldType>> = {
  text: 'string', long_text: 'string', select: 'string', multi_select: 'string',
  number: 'number', integer: 'number', date: 'date', boolean: 'boolean',
};

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
 * One page in custom-field order. `records()` is the list's rows query (scope, filters, search);
 * it is used as a correlated condition on the values rows, then to read the page's records.
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
  const withValue: { id: unknown; v: unknown }[] = [];
  const cursorValue = args.after ? args.after.values[0] : undefined;
  let offset = args.after ? 0 : args.offset;

  // Records with a value, unless the cursor is already past them.
  if (!args.after || cursorValue !== null) {
    const matches = () => {
      const qb = conn.from({ cfv: values.table })
        .where('cfv.field_definition_id', sort.field.id)
        .whereNotNull(`cfv.${column}`)
        .whereExists(args.records().select(conn.raw('1')).whereRaw(`"${table}"."id" = "cfv"."${values.recordColumn}"`));
      return qb;
    };
    const page = matches().select({ id: `cfv.${values.recordColumn}`, v: `cfv.${column}` });
    if (args.after) {
      page.whereRaw(`("cfv"."${column}", "cfv"."${values.recordColumn}") ${sort.desc ? '<' : '>'} (?, ?)`, [args.toDb(column, cursorValue), args.after.id]);
    }
    page.orderByRaw(`"cfv"."${column}" ${dir}, "cfv"."${values.recordColumn}" ${dir}`).limit(want);
    if (offset) page.offset(offset);
    withValue.push(...((await page) as { id: unknown; v: unknown }[]));
    if (withValue.length < want && offset) {
      // The offset reaches past the records with a value: the rest of it skips records without one.
      const counted = (await matches().count({ n: '*' }).first()) as { n: number | string };
      offset = Math.max(0, offset - Number(counted.n));
    } else {
      offset = 0;
    }
  }

  const rows: Row[] = [];
  const sortValues = new Map<unknown, unknown>();
  if (withValue.length) {
    const byId = new Map(((await args.records().select(`${table}.*`).whereIn(`${table}.id`, withValue.map((r) => r.id as string))) as Row[]).map((r) => [r.id, r]));
    for (const { id, v } of withValue) {
      const row = byId.get(id);
      if (!row) continue; // changed between the two reads: left out rather than shown out of order
      rows.push(row);
      sortValues.set(id, args.fromDb(column, v));
    }
  }
  if (rows.length < want) {
    const rest = args.records().select(`${table}.*`)
      .whereRaw(`"${table}"."id" not in (select "${values.recordColumn}" from "${values.table}" where "field_definition_id" = ? and "${column}" is not null)`, [sort.field.id]);
    if (args.after && cursorValue === null) rest.where(`${table}.id`, '>', args.after.id);
    rest.orderBy(`${table}.id`, 'asc').limit(want - rows.length);
    if (offset) rest.offset(offset);
    for (const row of (await rest) as Row[]) {
      rows.push(row);
      sortValues.set(row.id, null);
    }
  }
  const hasNext = rows.length > limit;
  return { rows: hasNext ? rows.slice(0, limit) : rows, hasNext, sortValues };
}
