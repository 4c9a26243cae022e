import type { Knex } from 'knex';
import type { EntityDefinition } from '../core/types.js';
import type { Statements } from '../db/statements.js';
import type { Filter } from '../operations/list-query.js';
import { recordCountDefinition } from './definition.js';
import { countPlan, keyValue } from './keys.js';

const TABLE = recordCountDefinition.table;
/** Most value combinations one total may sum (`in` lists multiply); past it the rows are counted. */
export const MAX_KEY_COMBINATIONS = 256;
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The stored counts a list's total is the sum of. */
export interface CountLookup {
  countKey: string;
  /** `key_values` of every value combination the filters match, without repeats. */
  keyValues: string[];
}

/**
 * Which stored counts answer a list filtered by `filters` (live records, no search, no other
 * condition: the caller checks that), or null when none do. Each filter must be an equality,
 * an `in` list or `[null]=true` on a field of its own, and the filtered fields must be exactly
 * one key's. Values are written as the counts store them; a uuid not in canonical form is left
 * to the database to compare.
 */
export function countLookup(def: EntityDefinition, filters: readonly Filter[], foldUuidCase: boolean): CountLookup | null {
  const byField = new Map<string, unknown[]>();
  for (const f of filters) {
    if (byField.has(f.field)) return null;
    let values: unknown[];
    if (f.op === 'eq') values = [f.value];
    else if (f.op === 'in' && Array.isArray(f.value)) values = f.value;
    // The records without a value: the count of [null].
    else if (f.op === 'null' && f.value === true) values = [null];
    else return null;
    // `= null` matches nothing in SQL, unlike the count of [null]: leave it to the database.
    if (f.op !== 'null' && values.some((v) => v === null || v === undefined)) return null;
    byField.set(f.field, values);
  }
  const key = countPlan(def).find((k) => k.fields.length === byField.size && k.fields.every((f) => byField.has(f.name)));
  if (!key) return null;
  let combos: unknown[][] = [[]];
  for (const field of key.fields) {
    const seen = new Map<string, unknown>();
    for (const raw of byField.get(field.name)!) {
      if (field.type === 'uuid' && raw !== null && !(typeof raw === 'string' && CANONICAL_UUID.test(raw))) return null;
      const value = keyValue(field.type, raw, foldUuidCase);
      seen.set(JSON.stringify(value), value);
    }
    if (combos.length * seen.size > MAX_KEY_COMBINATIONS) return null;
    combos = combos.flatMap((c) => [...seen.values()].map((v) => [...c, v]));
  }
  return { countKey: key.name, keyValues: combos.map((c) => JSON.stringify(c)) };
}

/** The total of the looked-up counts in one organization: one indexed read, a prepared statement. */
export async function readCount(statements: Statements, conn: Knex, table: string, orgId: string, lookup: CountLookup): Promise<number> {
  const sql = `select sum("n") as "n" from "${TABLE}" where "org_id" = ? and "table_name" = ? and "count_key" = ? and "key_values" in (${lookup.keyValues.map(() => '?').join(', ')})`;
  const [row] = await statements.all(conn, sql, [orgId, table, lookup.countKey, ...lookup.keyValues]);
  return Number(row?.n ?? 0);
}
