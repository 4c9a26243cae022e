import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import knexPkg from 'knex';
import type { Knex } from 'knex';
import { pino } from 'pino';
import { createApiKey } from '../../app/auth/api-keys.js';
import { createOrg } from '../../app/auth/orgs.js';
import { systemContext } from '../../app/auth/system-context.js';
import { loadConfig } from '../../app/core/config.js';
import { AppError } from '../../app/core/errors.js';
import { createHttpApp, type HttpServer } from '../../app/http/server.js';
import { createRecord } from '../../app/operations/create.js';
import { createRuntime, PROJECT_ROOT, type Runtime } from '../../app/runtime.js';
import { CRASH_DELIVERY_TABLE, CRASH_NOTE_TABLE, CRASH_REFUSED, crashPlugin, deferred } from '../support/crash-plugin.js';

const { knex } = knexPkg;

// Nothing is lost on `kill -9`. A child process (test/support/crash-child.ts) serves the API with
// a test plugin whose `crash-note.created` subscriber records each event id; this test streams
// concurrent POSTs at it, each with its own Idempotency-Key, kills it with SIGKILL mid-stream, then
// opens a fresh runtime on the same database and checks that every committed note was evented and
// delivered exactly once (and nothing else was), and that every key sent either replays the
// committed note or, if its first request never committed, creates it now: never twice, never a
// 409 "still in progress" once the in-flight lease is over.

const LEASES = { EVENT_LEASE_MS: '300', EVENT_SWEEP_MS: '100', IDEMPOTENCY_LEASE_MS: '500' };
/**
 * The child's afterCommit hook holds the answer of each `[slow]` note this long after its commit
 * (see crash-plugin.ts): half the workers send those, so that a kill finds both requests that
 * committed but were never answered and requests that never committed.
 */
const AFTER_COMMIT_DELAY_MS = '200';
const IDEMPOTENCY_LEASE_MS = Number(LEASES.IDEMPOTENCY_LEASE_MS);
const CHILD = path.join(PROJECT_ROOT, 'test', 'support', 'crash-child.ts');

type Row = Record<string, any>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` (which returns the problems it still sees) until it sees none or `ms` pass; returns the last problems. */
async function settle(check: () => Promise<string[]>, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  let problems = await check();
  while (problems.length && Date.now() < deadline) {
    await sleep(50);
    problems = await check();
  }
  return problems;
}

/** A database of the test's own: a temporary SQLite file, or a fresh schema when DATABASE_URL is PostgreSQL. */
async function freshDatabase(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const schema = `t_crash_${randomBytes(5).toString('hex')}`;
    const admin = knex({ client: 'pg', connection: url });
    await admin.raw(`create schema "${schema}"`);
    await admin.destroy();
    return {
      env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
      async cleanup() {
        const k = knex({ client: 'pg', connection: url });
        await k.raw(`drop schema if exists "${schema}" cascade`);
        await k.destroy();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'emr-crash-'));
  return {
    env: { DATABASE_URL: `sqlite:${path.join(dir, 'crash.sqlite')}`, DATABASE_SCHEMA: '' },
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

function baseEnv(db: Record<string, string>, redisPrefix: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return { ...env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SEED_DEMO: 'false', ...LEASES, ...db, CRASH_REDIS_PREFIX: redisPrefix };
}

/** A runtime of this process on the database of `env`, with the crash-test plugin. */
async function openRuntime(env: Record<string, string>, onAfterChange?: (record: Row) => void): Promise<Runtime> {
  const config = loadConfig(env);
  const k = deferred<Knex>();
  const rt = await createRuntime({ ...config, port: 0, host: '127.0.0.1' }, {
    plugins: [crashPlugin({ knex: k.promise, onAfterChange })],
    logger: pino({ level: env.LOG_LEVEL }),
    redisPrefix: env.CRASH_REDIS_PREFIX,
  });
  k.resolve(rt.db.knex);
  return rt;
}

async function closeRuntime(rt: Runtime | undefined): Promise<void> {
  if (!rt) return;
  if (rt.redis) {
    const keys = await rt.redis.keys(`${rt.redisPrefix}*`);
    if (keys.length) await rt.redis.del(...keys);
  }
  await rt.close();
}

interface ChildInfo {
  proc: ChildProcess;
  url: string;
  key: string;
  keyId: string;
  org: string;
  stderr: () => string;
}

/** Starts test/support/crash-child.ts and waits for its `{url, key, org}` line. */
function startChild(env: Record<string, string>): Promise<ChildInfo> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`crash child did not start within 30 s: ${err}`)), 30_000);
    proc.stderr!.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-20_000);
    });
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.stdout!.resume();
      try {
        resolve({ proc, ...JSON.parse(out.slice(0, nl)), stderr: () => err });
      } catch (e) {
        reject(new Error(`crash child printed '${out.slice(0, nl)}': ${(e as Error).message}`));
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`crash child exited before listening (code ${code}, signal ${signal}): ${err}`));
    });
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function killChild(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGKILL');
  await exited;
}

/**
 * What must hold between notes, outbox rows, deliveries and audit rows once the events are
 * delivered: each committed note has exactly one `crash-note.created` outbox row (delivered), one
 * delivery row and one create audit row; no event, delivery or audit row names a note that does
 * not exist. Returns every problem it sees.
 */
async function consistencyProblems(k: Knex): Promise<string[]> {
  const notes = new Set(((await k(CRASH_NOTE_TABLE).select('id')) as Row[]).map((r) => r.id as string));
  const outbox = (await k('outbox_events').select('id', 'type', 'resource_id', 'delivered_at', 'failed_at', 'attempts')) as Row[];
  const deliveries = (await k(CRASH_DELIVERY_TABLE).select('event_id', 'note_id')) as Row[];
  const audits = (await k('audit_events').where({ resource: 'crash-note' }).select('resource_id', 'action')) as Row[];
  const problems: string[] = [];
  const created = outbox.filter((e) => e.type === 'crash-note.created');
  const eventsByNote = new Map<string, number>();
  for (const e of created) eventsByNote.set(e.resource_id, (eventsByNote.get(e.resource_id) ?? 0) + 1);
  const deliveriesByNote = new Map<string, number>();
  for (const d of deliveries) deliveriesByNote.set(d.note_id, (deliveriesByNote.get(d.note_id) ?? 0) + 1);
  const auditsByNote = new Map<string, number>();
  for (const a of audits) if (a.action === 'create') auditsByNote.set(a.resource_id, (auditsByNote.get(a.resource_id) ?? 0) + 1);
  for (const id of notes) {
    if (eventsByNote.get(id) !== 1) problems.push(`note ${id} has ${eventsByNote.get(id) ?? 0} created events`);
    if (deliveriesByNote.get(id) !== 1) problems.push(`note ${id} has ${deliveriesByNote.get(id) ?? 0} deliveries`);
    if (auditsByNote.get(id) !== 1) problems.push(`note ${id} has ${auditsByNote.get(id) ?? 0} create audit rows`);
  }
  for (const e of outbox) {
    if (!notes.has(e.resource_id)) problems.push(`outbox event ${e.id} (${e.type}) names no stored note`);
    if (e.delivered_at === null) problems.push(`outbox event ${e.id} (${e.type}) is not delivered (attempts ${e.attempts}${e.failed_at ? ', failed' : ''})`);
  }
  const eventIds = new Set(created.map((e) => e.id as string));
  for (const d of deliveries) {
    if (!eventIds.has(d.event_id)) problems.push(`delivery of event ${d.event_id} has no outbox row`);
    if (!notes.has(d.note_id)) problems.push(`delivery of event ${d.event_id} names no stored note`);
  }
  for (const a of audits) if (!notes.has(a.resource_id)) problems.push(`audit row (${a.action}) names no stored note ${a.resource_id}`);
  return problems;
}

interface Sent {
  key: string;
  title: string;
  status?: number;
  id?: string;
  error?: string;
}

async function post(url: string, apiKey: string, org: string, s: Sent): Promise<{ status: number; replayed: boolean; body: Row }> {
  const res = await fetch(`${url}/api/v1/${org}/crash-notes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'idempotency-key': s.key },
    body: JSON.stringify({ title: s.title }),
  });
  const text = await res.text();
  let body: Row = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { raw: text };
  }
  return { status: res.status, replayed: res.headers.get('idempotent-replayed') === 'true', body };
}

describe('crash recovery (kill -9 mid-stream)', function () {
  let db: { env: Record<string, string>; cleanup(): Promise<void> } | undefined;
  let env: Record<string, string>;
  let child: ChildInfo | undefined;
  let rt: Runtime | undefined;
  let http: HttpServer | undefined;

  const sent: Sent[] = [];
  let killedAt = 0;

  before(async function () {
    this.timeout(60_000);
    db = await freshDatabase();
    env = baseEnv(db.env, `emr-crash:${randomBytes(6).toString('hex')}:`);
    child = await startChild({ ...env, CRASH_AFTER_COMMIT_DELAY_MS: AFTER_COMMIT_DELAY_MS, CRASH_HELD_MS: '60000' });
  });

  after(async function () {
    this.timeout(30_000);
    await killChild(child?.proc);
    await http?.close();
    await closeRuntime(rt);
    await db?.cleanup();
  });

  it('streams concurrent idempotent POSTs and is killed with SIGKILL in the middle of them', async function () {
    this.timeout(20_000);
    const c = child!;
    const run = randomBytes(4).toString('hex');
    let stop = false;
    const worker = async (w: number) => {
      while (!stop) {
        const s: Sent = { key: `crash-${run}-${sent.length}`, title: `note ${run} ${sent.length}${w % 2 ? '' : ' [slow]'}` };
        sent.push(s);
        try {
          const res = await post(c.url, c.key, c.org, s);
          s.status = res.status;
          s.id = res.body?.data?.id;
          if (res.status !== 201) s.error = JSON.stringify(res.body);
        } catch (err) {
          s.error = String((err as { cause?: { code?: string } }).cause?.code ?? err);
        }
      }
    };
    const started = Date.now();
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    // Kill about a second in, once a good number of writes answered (at most 5 s in).
    while (Date.now() - started < 5000 && (Date.now() - started < 1000 || sent.filter((s) => s.status === 201).length < 40)) await sleep(10);
    // No new request starts from here: the unanswered ones below were in flight at the kill.
    stop = true;
    // However fast the others commit, one request is certain to die before committing: the
    // child holds a `[held]` note before its transaction far longer than the kill takes.
    // And one is certain to have committed unanswered: the child holds a `[kept]` note after its
    // commit as long (it is sent first, so its commit is long done when the kill comes).
    const pending: Promise<void>[] = [];
    for (const tag of ['kept', 'held']) {
      const s: Sent = { key: `crash-${run}-${tag}`, title: `note ${run} ${tag} [${tag}]` };
      sent.push(s);
      pending.push(post(c.url, c.key, c.org, s).then(
        (res) => { s.status = res.status; },
        (err) => { s.error = String((err as { cause?: { code?: string } }).cause?.code ?? err); },
      ));
      await sleep(tag === 'kept' ? 300 : 100);
    }
    killedAt = Date.now();
    await killChild(c.proc);
    await Promise.all([...workers, ...pending]);

    expect(c.proc.signalCode).to.equal('SIGKILL');
    const answered = sent.filter((s) => s.status !== undefined);
    const bad = answered.filter((s) => s.status !== 201);
    expect(bad, `answers other than 201 before the kill: ${JSON.stringify(bad.slice(0, 5))}`).to.deep.equal([]);
    expect(answered.length, 'requests answered before the kill').to.be.at.least(10);
    const inFlight = sent.filter((s) => s.status === undefined);
    expect(inFlight.length, 'requests in flight when the child was killed').to.be.at.least(1);
    for (const s of inFlight) expect(s.error, s.key).to.be.a('string');
  });

  it('a fresh runtime on the same database delivers every committed event exactly once, and only those', async function () {
    this.timeout(20_000);
    if (!killedAt) this.skip();
    rt = await openRuntime(env);
    const k = rt.db.knex;
    const notes = (await k(CRASH_NOTE_TABLE).select('id', 'title')) as Row[];
    const byTitle = new Map<string, Row[]>();
    for (const n of notes) byTitle.set(n.title, [...(byTitle.get(n.title) ?? []), n]);

    // Every answered 201 is stored, with the id it answered; nothing was written twice.
    for (const s of sent.filter((x) => x.status === 201)) {
      expect(byTitle.get(s.title)?.map((n) => n.id), s.title).to.deep.equal([s.id]);
    }
    for (const [title, list] of byTitle) expect(list, title).to.have.length(1);
    const titles = new Set(sent.map((s) => s.title));
    for (const n of notes) expect(titles.has(n.title), n.title).to.equal(true);
    expect(notes.length, 'notes committed before the kill').to.be.at.least(10);

    const problems = await settle(() => consistencyProblems(k), 10_000);
    expect(problems, problems.slice(0, 10).join('\n')).to.deep.equal([]);
    const failed = await k('outbox_events').whereNotNull('failed_at').count({ n: '*' }).first();
    expect(Number(failed!.n)).to.equal(0);
  });

  it('every Idempotency-Key sent replays its committed note or, if it never committed, creates it once', async function () {
    this.timeout(20_000);
    if (!rt) this.skip();
    const c = child!;
    const k = rt!.db.knex;
    http = createHttpApp(rt!);
    const { url } = await http.listen(0, '127.0.0.1');
    // The keys of requests that died in flight are free again once their lease is over.
    const wait = killedAt + IDEMPOTENCY_LEASE_MS + 150 - Date.now();
    if (wait > 0) await sleep(wait);

    const before = new Map(((await k(CRASH_NOTE_TABLE).select('id', 'title')) as Row[]).map((n) => [n.title as string, n.id as string]));
    const outcomes: { s: Sent; status: number; replayed: boolean; id?: string; body: Row }[] = [];
    const queue = [...sent];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        const res = await post(url, c.key, c.org, s);
        outcomes.push({ s, status: res.status, replayed: res.replayed, id: res.body?.data?.id, body: res.body });
      }
    }));

    const after = new Map<string, string[]>();
    for (const n of (await k(CRASH_NOTE_TABLE).select('id', 'title')) as Row[]) after.set(n.title, [...(after.get(n.title) ?? []), n.id]);
    let replays = 0;
    let fresh = 0;
    let committedUnanswered = 0;
    for (const o of outcomes) {
      const what = `${o.s.key} (first: ${o.s.status ?? o.s.error}) → ${o.status} ${JSON.stringify(o.body)}`;
      expect(o.status, what).to.equal(201);
      expect(after.get(o.s.title), what).to.deep.equal([o.id]);
      const committed = before.get(o.s.title);
      if (committed) {
        replays++;
        if (o.s.status === undefined) committedUnanswered++;
        expect(o.replayed, `${what}: a committed request must be replayed`).to.equal(true);
        expect(o.id, what).to.equal(committed);
        if (o.s.id) expect(o.id, what).to.equal(o.s.id);
      } else {
        fresh++;
        expect(o.replayed, `${what}: a request that never committed runs afresh`).to.equal(false);
      }
    }
    expect(outcomes).to.have.length(sent.length);
    expect(replays, 'keys whose first request committed').to.equal(before.size);
    expect(fresh, 'keys whose first request never committed').to.equal(sent.length - before.size);
    expect(fresh, 'requests that died before committing').to.be.at.least(1);
    expect(committedUnanswered, 'requests that committed but were never answered').to.be.at.least(1);
    expect([...after.values()].every((ids) => ids.length === 1)).to.equal(true);
    expect(after.size).to.equal(sent.length);
    if (process.env.CRASH_TEST_VERBOSE) {
      console.log(`      sent ${sent.length}, committed before kill ${before.size} (${committedUnanswered} unanswered), fresh on retry ${fresh}`);
    }

    // A second retry of every key now replays what the first retry stored.
    for (const o of outcomes.slice(0, 50)) {
      const again = await post(url, c.key, c.org, o.s);
      expect(again.status, o.s.key).to.equal(201);
      expect(again.replayed, o.s.key).to.equal(true);
      expect(again.body.data.id, o.s.key).to.equal(o.id);
    }

    // And the new notes' events are delivered like the old ones.
    const problems = await settle(() => consistencyProblems(k), 10_000);
    expect(problems, problems.slice(0, 10).join('\n')).to.deep.equal([]);
  });
});

describe('a change refused inside the transaction', function () {
  let db: { env: Record<string, string>; cleanup(): Promise<void> } | undefined;
  let rt: Runtime | undefined;
  let http: HttpServer | undefined;
  const seenByAfterChange: Row[] = [];

  before(async function () {
    this.timeout(30_000);
    db = await freshDatabase();
    rt = await openRuntime(baseEnv(db.env, `emr-crash:${randomBytes(6).toString('hex')}:`), (record) => seenByAfterChange.push(record));
  });

  after(async function () {
    this.timeout(30_000);
    await http?.close();
    await closeRuntime(rt);
    await db?.cleanup();
  });

  it('leaves no record, no outbox row, no audit row and no delivery, whichever step refuses it', async function () {
    this.timeout(20_000);
    const r = rt!;
    const k = r.db.knex;
    const org = await createOrg(r, { slug: `refuse-${randomBytes(3).toString('hex')}`, name: 'Refusing Clinic' });
    const ctx = systemContext(r, org);
    const refused = async (p: Promise<unknown>, code: string) => {
      const err = await p.then(() => null, (e: unknown) => e);
      expect(err, 'the write must fail').to.be.instanceOf(AppError);
      expect((err as AppError).code).to.equal(code);
    };

    // beforeChange refuses: nothing was written yet.
    await refused(createRecord(r, { resource: 'crash-note', ctx, body: { title: 'refuse-before 1' } }), CRASH_REFUSED);
    // afterChange refuses after the insert and the audit row, having emitted an event of its own.
    await refused(createRecord(r, { resource: 'crash-note', ctx, body: { title: 'refuse-after 1' } }), CRASH_REFUSED);
    expect(seenByAfterChange, 'the afterChange hook saw the inserted record').to.have.length(1);
    // The last step of the transaction fails, after the outbox rows were written.
    let answeredId: string | undefined;
    await refused(createRecord(r, {
      resource: 'crash-note', ctx, body: { title: 'refused at commit' },
      commitWith: async (_trx, answered) => {
        answeredId = answered?.id as string;
        throw new AppError('unprocessable', 'refused by the test in the last step of the transaction');
      },
    }), 'unprocessable');
    expect(answeredId).to.be.a('string');

    // Over HTTP with an Idempotency-Key: the error is answered and the key released.
    http = createHttpApp(r);
    const { url } = await http.listen(0, '127.0.0.1');
    const key = await createApiKey(r, { orgSlugs: [org.slug], partnerName: 'Refusing Partner', scopes: ['*'], rateLimit: 1_000_000 });
    const res = await fetch(`${url}/api/v1/${org.slug}/crash-notes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', 'idempotency-key': 'refused-1' },
      body: JSON.stringify({ title: 'refuse-after 2' }),
    });
    const body = (await res.json()) as Row;
    expect(res.status, JSON.stringify(body)).to.equal(422);
    expect(body.error).to.equal(CRASH_REFUSED);
    expect(body.details).to.deep.equal([{ path: '/body/title', message: 'is refused (afterChange)' }]);
    expect(seenByAfterChange).to.have.length(2);
    expect(await k('idempotency_keys').where({ key: 'refused-1' }).select('id'), 'the key is released').to.deep.equal([]);

    // Give dispatch and a few sweeps the chance to deliver anything that had leaked.
    await r.events.idle();
    await sleep(400);
    await r.events.idle();
    const refusedIds = [...seenByAfterChange.map((rec) => rec.id as string), answeredId!];
    expect(await k(CRASH_NOTE_TABLE).select('id', 'title')).to.deep.equal([]);
    expect(await k('outbox_events').select('id', 'type', 'resource_id')).to.deep.equal([]);
    expect(await k('audit_events').whereIn('resource_id', refusedIds).select('id', 'action')).to.deep.equal([]);
    expect(await k(CRASH_DELIVERY_TABLE).select('event_id')).to.deep.equal([]);

    // The control: the same path with an accepted title stores the note, its event and its delivery.
    const ok = await createRecord(r, { resource: 'crash-note', ctx, body: { title: 'accepted' } });
    const problems = await settle(() => consistencyProblems(k), 5_000);
    expect(problems, problems.join('\n')).to.deep.equal([]);
    expect((await k(CRASH_DELIVERY_TABLE).select('note_id')).map((d: Row) => d.note_id)).to.deep.equal([ok.id]);
  });
});
