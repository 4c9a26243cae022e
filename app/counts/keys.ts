import type { EntityDefinition, FieldType } from '../core/types.js';

// Pure: what one definition's count keys are, how a value is written into a key, and which
// counts a change moves. No database here.

export type Row = Record<string, unknown>;

/** One write as the pipeline sees it: the record before (null on create) and after it. */
export interface RecordChange {
  before: Row | null;
  after: Row | null;
}

/** A change to one stored count: add `n` (negative to subtract) to the row of this key and values. */
export interface CountDelta {
  countKey: string;
  keyValues: string;
  n: number;
}

export interface CountKeyPlan {
  /** The stored `count_key`: the field names in declared order, joined by commas. */
  name: string;
  fields: { name: string; type: FieldType }[];
}

/** The count key of the marker row that records which keys a table's counts were built for. */
export const MARKER_KEY = '#keys';

export const countKeyName = (fields: readonly string[]): string => fields.join(',');

const plans = new WeakMap<EntityDefinition, CountKeyPlan[]>();

/** The definition's count keys with their field types, worked out once per definition object. */
export function countPlan(def: EntityDefinition): CountKeyPlan[] {
  let plan = plans.get(def);
  if (!plan) {
    plan = (def.counts ?? []).map((key) => ({ name: countKeyName(key), fields: key.map((name) => ({ name, type: def.fields[name].type })) }));
    plans.set(def, plan);
  }
  return plan;
}

/**
 * What a table's stored counts were built for. The leading version changes whenever the way
 * values are written into keys changes, so that counts built the old way are rebuilt at start.
 */
export function countSignature(def: Pick<EntityDefinition, 'counts'>): string {
  return JSON.stringify(['v1', ...(def.counts ?? []).map(countKeyName)]);
}

/**
 * A stored value as it is written into a key: the API form, so that the value a list filters on
 * finds it. `foldUuidCase` follows the database: where uuids compare case-insensitively, two
 * spellings of one uuid are one value.
 */
export function keyValue(type: FieldType, value: unknown, foldUuidCase: boolean): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    // SQLite stores booleans as 0/1; the API form is true/false.
    case 'boolean': return value === true || value === 1;
    case 'integer': return typeof value === 'number' ? value : Number(value);
    case 'uuid': return foldUuidCase ? String(value).toLowerCase() : String(value);
    default: return String(value);
  }
}

/** The stored `key_values` of a row under one key: a JSON array of its values in key order. */
export function keyValuesOf(key: CountKeyPlan, row: Row, foldUuidCase: boolean): string {
  return JSON.stringify(key.fields.map((f) => keyValue(f.type, row[f.name], foldUuidCase)));
}

/** A record counts while it is live: not archived (resources without archiving are always live). */
export function isLive(row: Row): boolean {
  return row.deleted_at === null || row.deleted_at === undefined;
}

/**
 * The count changes of a batch of writes: -1 under every key for a live record before, +1 for
 * a live record after, summed per key and values. What nets to zero (a change that moved no
 * counted value) is left out. Sorted by key and values: concurrent transactions that lock the
 * count rows in one order cannot deadlock on them.
 */
export function countDeltas(keys: readonly CountKeyPlan[], changes: readonly RecordChange[], foldUuidCase: boolean): CountDelta[] {
  const sums = new Map<string, CountDelta>();
  const add = (row: Row | null, n: number) => {
    if (!row || !isLive(row)) return;
    for (const key of keys) {
      const keyValues = keyValuesOf(key, row, foldUuidCase);
      const id = `${key.name}\u0000${keyValues}`;
      const delta = sums.get(id);
      if (delta) delta.n += n;
      else sums.set(id, { countKey: key.name, keyValues, n });
    }
  };
  for (const change of changes) {
    add(change.before, -1);
    add(change.after, 1);
  }
  return [...sums.values()].filter((d) => d.n !== 0).sort(compareDeltas);
}

export function compareDeltas(a: CountDelta, b: CountDelta): number {
  if (a.countKey !== b.countKey) return a.countKey < b.countKey ? -1 : 1;
  if (a.keyValues !== b.keyValues) return a.keyValues < b.keyValues ? -1 : 1;
  return 0;
}
