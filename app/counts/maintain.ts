import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { ResolvedDefinition } from '../core/types.js';
import type { Statements } from '../db/statements.js';
import type { Runtime } from '../runtime.js';
import { recordCountDefinition } from './definition.js';
import { countDeltas, countPlan, type CountDelta, type RecordChange } from './keys.js';

const TABLE = recordCountDefinition.table;
const COLUMNS = ['id', 'org_id', 'table_name', 'count_key', 'key_values', 'n', 'created_at', 'updated_at'];
// SQLite turns a multi-row VALUES into a compound SELECT of at most 500 terms.
const ROWS_PER_STATEMENT = 500;

/**
 * Keeps the definition's counts right for a batch of writes, in the writes' own transaction: the
 * counts commit (or roll back) with the records. Called for every write, so a resource without
 * counts returns at once, and a write that moved no counted value issues no statement.
 */
export async function recordCountChanges(trx: Knex.Transaction, rt: Runtime, def: ResolvedDefinition, orgId: string | undefined, changes: readonly RecordChange[]): Promise<void> {
  if (!def.counts?.length) return;
  // Definition checks allow counts on tenant resources only, so every write has an organization.
  if (orgId === undefined) throw new Error(`counted resource '${def.name}' written without an organization`);
  const deltas = countDeltas(countPlan(def), changes, rt.db.dialect.uuidsIgnoreCase);
  if (deltas.length) await applyCountDeltas(rt.db.statements, trx, def.table, orgId, deltas);
}

/**
 * Adds the deltas (sorted, summed per key and values) to the stored counts with one multi-row
 * upsert: a missing row is created with the delta, an existing one grows by it.
 */
export async function applyCountDeltas(statements: Statements, trx: Knex, table: string, orgId: string, deltas: readonly CountDelta[]): Promise<void> {
  const now = new Date().toISOString();
  const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
  for (let i = 0; i < deltas.length; i += ROWS_PER_STATEMENT) {
    const part = deltas.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    for (const d of part) params.push(uuidv7(), orgId, table, d.countKey, d.keyValues, d.n, now, now);
    // On the driver's own connection (a prepared statement), as the write's other hot statements.
    await statements.run(
      trx,
      `insert into "${TABLE}" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${part.map(() => tuple).join(', ')} ` +
        `on conflict ("org_id", "table_name", "count_key", "key_values") do update set "n" = "${TABLE}"."n" + excluded."n", "updated_at" = excluded."updated_at"`,
      params,
    );
  }
}
