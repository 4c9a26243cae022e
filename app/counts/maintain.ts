import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { ResolvedDefinition } from '../core/types.js';
import type { Statements } from '../db/statements.js';
import type { Runtime } from '../runtime.js';
import { recordCountDefinition } from './definition.js';
import { countDeltas, countPlan, type CountDelta, type RecordChange } from './keys.js';

const TABLE = recordCountDefinition.table;
const COLUMNS = ['id', 'org_id', 'table_name', 'count_key', 'key_values', 'slot', 'n', 'created_at', 'updated_at'];
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
  if (deltas.length) await applyCountDeltas(rt.db.statements, trx, def.table, orgId, deltas, await slotOf(trx, rt.db.dialect.countSlots));
}

const slots = new WeakMap<object, number>();
let nextSlot = 0;

/**
 * The slot a transaction adds its counts to: its connection's. Where writers run at once
 * (PostgreSQL), each count is spread over one row per connection: a row stays locked from a
 * write's upsert to its commit, and with one row per count every writer of an organization would
 * wait for the one before it to commit. Connections take slots in turn, so up to `count` of them
 * never share a row (and never wait on, or deadlock with, each other over counts).
 */
async function slotOf(trx: Knex.Transaction, count: number): Promise<number> {
  if (count <= 1) return 0;
  const client = (trx as unknown as { client: { acquireConnection(): Promise<object>; releaseConnection(c: object): Promise<unknown> } }).client;
  const connection = await client.acquireConnection(); // a transaction's own connection
  await client.releaseConnection(connection);
  let slot = slots.get(connection);
  if (slot === undefined) slots.set(connection, (slot = nextSlot++ % count));
  return slot;
}

/**
 * Adds the deltas (sorted, summed per key and values) to the stored counts with one multi-row
 * upsert: a missing row is created with the delta, an existing one grows by it.
 */
export async function applyCountDeltas(statements: Statements, trx: Knex, table: string, orgId: string, deltas: readonly CountDelta[], slot = 0): Promise<void> {
  const now = new Date().toISOString();
  const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
  for (let i = 0; i < deltas.length; i += ROWS_PER_STATEMENT) {
    const part = deltas.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    for (const d of part) params.push(uuidv7(), orgId, table, d.countKey, d.keyValues, slot, d.n, now, now);
    // On the driver's own connection (a prepared statement), as the write's other hot statements.
    await statements.run(
      trx,
      `insert into "${TABLE}" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${part.map(() => tuple).join(', ')} ` +
        `on conflict ("org_id", "table_name", "count_key", "key_values", "slot") do update set "n" = "${TABLE}"."n" + excluded."n", "updated_at" = excluded."updated_at"`,
      params,
    );
  }
}
