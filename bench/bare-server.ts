// The baseline for the benchmarks: the same routes written by hand with Koa, @koa/router, knex
// and better-sqlite3 (WAL) on the same SQLite file, with no auth, validation, permissions or
// audit. Prints `LISTENING <url>` once it accepts connections.
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import knexPkg from 'knex';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';
import { v7 as uuidv7 } from 'uuid';

const { knex } = knexPkg;
const file = process.env.BENCH_DB;
if (!file) {
  console.error('BENCH_DB (the SQLite file) is required');
  process.exit(2);
}

const db = knex({
  client: 'better-sqlite3',
  connection: { filename: file },
  useNullAsDefault: true,
  pool: {
    min: 1,
    max: 1,
    afterCreate(conn: any, done: (err: Error | null, conn: unknown) => void) {
      conn.pragma('journal_mode = WAL');
      conn.pragma('synchronous = NORMAL');
      conn.pragma('busy_timeout = 5000');
      done(null, conn);
    },
  },
});

const org = await db('organizations').where({ slug: process.env.BENCH_ORG || 'bench' }).first('id');
if (!org) {
  console.error('organization not found');
  process.exit(2);
}
const orgId = org.id as string;

// better-sqlite3 binds no booleans; everything else is stored as sent.
const toDb = (body: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(body).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 1 : 0) : v]));

const router = new Router();

router.get('/patients/:id', async (ctx) => {
  const row = await db('patients').where({ id: ctx.params.id, org_id: orgId }).whereNull('deleted_at').first();
  if (!row) {
    ctx.status = 404;
    ctx.body = { error: 'not_found' };
    return;
  }
  ctx.body = { data: row };
});

router.get('/patients', async (ctx) => {
  const limit = Math.min(Number(ctx.query.limit ?? 50) || 50, 100);
  const base = db('patients').where({ org_id: orgId }).whereNull('deleted_at');
  if (typeof ctx.query.status === 'string') base.where({ status: ctx.query.status });
  if (typeof ctx.query.search === 'string') base.where('last_name', 'like', `${ctx.query.search.replace(/%/g, '')}%`);
  const [rows, [{ n }]] = [await base.clone().orderBy([{ column: 'last_name' }, { column: 'id' }]).limit(limit), await base.clone().count({ n: '*' })];
  ctx.body = { data: rows, total_count: Number(n), limit };
});

router.post('/patients', async (ctx) => {
  const now = new Date().toISOString();
  const row = { ...toDb((ctx.request as any).body ?? {}), id: uuidv7(), org_id: orgId, version: 1, created_at: now, updated_at: now, deleted_at: null };
  await db('patients').insert(row);
  ctx.status = 201;
  ctx.body = { data: row };
});

router.patch('/patients/:id', async (ctx) => {
  const { base_version: base, ...changes } = ((ctx.request as any).body ?? {}) as Record<string, unknown>;
  const id = ctx.params.id;
  const updated = await db('patients').where({ id, org_id: orgId, version: base })
    .update({ ...toDb(changes), version: Number(base) + 1, updated_at: new Date().toISOString() });
  const row = await db('patients').where({ id, org_id: orgId }).first();
  if (!row) {
    ctx.status = 404;
    ctx.body = { error: 'not_found' };
  } else if (updated !== 1) {
    ctx.status = 409;
    ctx.body = { error: 'version_conflict', current_version: row.version };
  } else {
    ctx.body = { data: row };
  }
});

const app = new Koa();
app.use(bodyParser({ enableTypes: ['json'] }));
app.use(router.routes());
const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
});
server.keepAliveTimeout = 65_000;

async function stop() {
  server.close();
  server.closeAllConnections?.();
  await db.destroy();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
