import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { PLATFORM_ORG_ID } from '../core/context.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Dialect } from '../db/dialect.js';
import { recordCountDefinition } from './definition.js';
import { countPlan, countSignature, keyValuesOf, MARKER_KEY } from './keys.js';

const TABLE = recordCountDefinition.table;
const ROWS_PER_INSERT = 500;

/**
 * Brings the stored counts in line with the definitions at start. A table whose marker row is
 * missing or names other keys (counts just declared or changed, or the marker removed) has its
 * counts recomputed from its rows; a table whose definition dropped its counts loses them, so
 * that counts declared again later are rebuilt rather than trusted. Tables this runtime has no
 * definition for are left alone. One transaction: on PostgreSQL under the schema-sync lock (two
 * processes starting together take turns) and with writes to a recomputed table held off, so
 * that no write falls between the recount and the first delta applied on top of it.
 * Resolves to the tables recomputed or cleared.
 */
export async function backfillCounts(db: { knex: Knex; dialect: Dialect }, defs: readonly ResolvedDefinition[]): Promise<string[]> {
  return db.knex.transaction(async (trx) => {
    await db.dialect.lockSchemaChanges(trx);
    // A write first, though it changes nothing: on SQLite a transaction that reads and then writes
    // fails outright (SQLITE_BUSY_SNAPSHOT) when another connection commits in between, while
    // one that starts by writing waits its turn for the lock.
    await trx(TABLE).whereRaw('1 = 0').delete();
    const markers = new Map<string, string>();
    for (const r of await trx(TABLE).where({ org_id: PLATFORM_ORG_ID, count_key: MARKER_KEY }).select('table_name', 'key_values')) {
      markers.set(r.table_name as string, r.key_values as string);
    }
    const stale = defs.filter((def) => {
      const wanted = def.counts?.length ? countSignature(def) : undefined;
      return markers.get(def.table) !== wanted;
    });
    stale.sort((a, b) => (a.table < b.table ? -1 : 1));
    // Every lock before any recount, so that none is waited for while holding count rows.
    for (const def of stale) if (def.counts?.length) await db.dialect.lockTableAgainstWrites(trx, def.table);
    for (const def of stale) {
      await trx(TABLE).where({ table_name: def.table }).delete();
      if (def.counts?.length) await recount(trx, db.dialect, def);
    }
    return stale.map((d) => d.table);
  });
}

/**
 * Every key's counts of the table's live records, then the marker. Counted by the database,
 * grouped by organization and the key's fields; a key whose fields a wider key already grouped by
 * is summed from that grouping instead (patients' four keys take one scan of the table).
 */
async function recount(trx: Knex.Transaction, dialect: Dialect, def: ResolvedDefinition): Promise<void> {
  const now = new Date().toISOString();
  const rows: Record<string, unknown>[] = [];
  const scanned: { fields: string[]; groups: Record<string, unknown>[] }[] = [];
  for (const key of [...countPlan(def)].sort((a, b) => b.fields.length - a.fields.length)) {
    const fields = key.fields.map((f) => f.name);
    let groups = scanned.find((g) => fields.every((f) => g.fields.includes(f)))?.groups;
    if (!groups) {
      const columns = ['org_id', ...fields];
      const q = trx(def.table).select(columns).count({ n: '*' }).groupBy(columns);
      if (def.archivable) q.whereNull('deleted_at');
      groups = (await q) as Record<string, unknown>[];
      scanned.push({ fields, groups });
    }
    // Summed per organization and values in key form: a wider grouping folds into this key's, and
    // two stored spellings of one uuid are one value where the database compares without case.
    const sums = new Map<string, { org_id: string; key_values: string; n: number }>();
    for (const g of groups) {
      const orgId = String(g.org_id);
      const keyValues = keyValuesOf(key, g, dialect.uuidsIgnoreCase);
      const id = `${orgId}\u0000${keyValues}`;
      const entry = sums.get(id);
      if (entry) entry.n += Number(g.n);
      else sums.set(id, { org_id: orgId, key_values: keyValues, n: Number(g.n) });
    }
    for (const e of sums.values()) rows.push({ id: uuidv7(), org_id: e.org_id, table_name: def.table, count_key: key.name, key_values: e.key_values, n: e.n, created_at: now, updated_at: now });
  }
  rows.push({ id: uuidv7(), org_id: PLATFORM_ORG_ID, table_name: def.table, count_key: MARKER_KEY, key_values: countSignature(def), n: 0, created_at: now, updated_at: now });
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await trx(TABLE).insert(rows.slice(i, i + ROWS_PER_INSERT));
}
