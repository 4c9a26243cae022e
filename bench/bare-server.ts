// The baseline for the benchmarks: the engine's patient routes written by hand as leanly as a
// careful developer would: Koa with a hand router, better-sqlite3 (WAL) straight on a copy of the same
// SQLite file, one statement per case prepared once at start, no body parsing on reads. It has
// no auth, validation, permissions, audit or caching; list and search run a naive count(*) on
// every request. It returns the columns the engine returns for a patient (all stored columns but
// org_id), as stored (booleans as 0/1). Prints `LISTENING <url>` once it accepts connections.
//
//   GET   /patients/:id
//   GET   /patients?status=&gender=&limit=      sorted by last_name, id; total_count
//   GET   /patients?search=<prefix>&limit=      last_name LIKE '<prefix>%'; total_count
//   POST  /patients                              201, the stored record
//   PATCH /patients/:id {base_version, ...}      200, or 409 version_conflict, or 404
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import Koa from 'koa';
import { v7 as uuidv7 } from 'uuid';

const file = process.env.BENCH_DB;
if (!file) {
  console.error('BENCH_DB (the SQLite file) is required');
  process.exit(2);
}

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');

const orgId = db.prepare('select id from organizations where slug = ?').pluck().get(process.env.BENCH_ORG || 'bench') as string | undefined;
if (!orgId) {
  console.error('organization not found');
  process.exit(2);
}

const q = (name: string) => `"${name}"`;
const columns = (db.prepare(`select name from pragma_table_info('patients')`).all() as { name: string }[]).map((c) => c.name);
/** Maintained by the server, never taken from a body. */
const SYSTEM = new Set(['id', 'org_id', 'version', 'created_at', 'updated_at', 'deleted_at']);
const writable = new Set(columns.filter((c) => !SYSTEM.has(c)));
const selected = columns.filter((c) => c !== 'org_id');
const out = selected.map(q).join(', ');
const live = `org_id = ? and deleted_at is null`;
const ORDER = 'order by last_name, id limit ?';

const getById = db.prepare(`select ${out} from patients where id = ? and ${live}`);
/** List filters the benchmark sends, each combination one prepared pair (page, naive count). */
const FILTERS = ['status', 'gender'] as const;
const lists = new Map<string, { page: Database.Statement; count: Database.Statement }>();
for (const combo of [[], ['status'], ['gender'], ['status', 'gender']] as (typeof FILTERS[number])[][]) {
  const where = [live, ...combo.map((f) => `${q(f)} = ?`)].join(' and ');
  lists.set(combo.join(','), {
    page: db.prepare(`select ${out} from patients where ${where} ${ORDER}`),
    count: db.prepare(`select count(*) from patients where ${where}`).pluck(),
  });
}
const search = {
  page: db.prepare(`select ${out} from patients where ${live} and last_name like ? ${ORDER}`),
  count: db.prepare(`select count(*) from patients where ${live} and last_name like ?`).pluck(),
};
const insert = db.prepare(`insert into patients (${columns.map(q).join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`);
const versionOf = db.prepare(`select version from patients where id = ? and ${live}`).pluck();
/** One conditional UPDATE … RETURNING per set of changed columns, prepared on first use. */
const updates = new Map<string, Database.Statement>();
function updateFor(fields: string[]): Database.Statement {
  const key = fields.join(',');
  let stmt = updates.get(key);
  if (!stmt) {
    const set = [...fields.map((f) => `${q(f)} = ?`), 'version = version + 1', 'updated_at = ?'].join(', ');
    stmt = db.prepare(`update patients set ${set} where id = ? and ${live} and version = ? returning ${out}`);
    updates.set(key, stmt);
  }
  return stmt;
}

// better-sqlite3 binds no booleans; everything else is stored as sent.
const toDb = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v === undefined ? null : v);

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

const limitOf = (raw: unknown) => Math.min(Math.max(Number(raw) || 50, 1), 100);

const app = new Koa();
app.silent = true;
app.use(async (ctx) => {
  const { method, path } = ctx;
  if (path === '/patients') {
    if (method === 'GET') {
      const query = ctx.query;
      const limit = limitOf(query.limit);
      if (typeof query.search === 'string') {
        const pattern = `${query.search.replace(/%/g, '')}%`;
        ctx.body = { data: search.page.all(orgId, pattern, limit), total_count: search.count.get(orgId, pattern), limit };
        return;
      }
      const used = FILTERS.filter((f) => typeof query[f] === 'string');
      const stmts = lists.get(used.join(','))!;
      const values = used.map((f) => query[f]);
      ctx.body = { data: stmts.page.all(orgId, ...values, limit), total_count: stmts.count.get(orgId, ...values), limit };
      return;
    }
    if (method === 'POST') {
      const body = await readJson(ctx.req);
      if (!body) return badRequest(ctx);
      const now = new Date().toISOString();
      const row: Record<string, unknown> = {};
      for (const c of columns) row[c] = writable.has(c) ? toDb(body[c]) : null;
      Object.assign(row, { id: uuidv7(), org_id: orgId, version: 1, created_at: now, updated_at: now });
      insert.run(row);
      delete row.org_id;
      ctx.status = 201;
      ctx.body = { data: row };
      return;
    }
  } else if (path.startsWith('/patients/')) {
    const id = path.slice('/patients/'.length);
    if (method === 'GET') {
      const row = getById.get(id, orgId);
      if (!row) return notFound(ctx);
      ctx.body = { data: row };
      return;
    }
    if (method === 'PATCH') {
      const body = await readJson(ctx.req);
      if (!body) return badRequest(ctx);
      const { base_version: base, ...changes } = body;
      const fields = Object.keys(changes).sort();
      if (!Number.isInteger(base) || !fields.length || !fields.every((f) => writable.has(f))) return badRequest(ctx);
      const row = updateFor(fields).get(...fields.map((f) => toDb(changes[f])), new Date().toISOString(), id, orgId, base);
      if (row) {
        ctx.body = { data: row };
        return;
      }
      const current = versionOf.get(id, orgId);
      if (current === undefined) return notFound(ctx);
      ctx.status = 409;
      ctx.body = { error: 'version_conflict', details: [{ path: '/body/base_version', current_version: current }] };
      return;
    }
  }
  notFound(ctx);
});

function notFound(ctx: Koa.Context) {
  ctx.status = 404;
  ctx.body = { error: 'not_found' };
}

function badRequest(ctx: Koa.Context) {
  ctx.status = 400;
  ctx.body = { error: 'validation_error' };
}

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`LISTENING http://127.0.0.1:${port}\n`);
});
server.keepAliveTimeout = 65_000;

function stop() {
  server.close();
  server.closeAllConnections?.();
  db.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
