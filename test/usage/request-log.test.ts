import { expect } from 'chai';
import knexPkg from 'knex';
import { definePlugin } from '../../app/core/plugin.js';
import { PLATFORM_ORG_ID } from '../../app/core/context.js';
import type { Org } from '../../app/operations/context.js';
import { dailyCounters, RequestLog, type RequestLogEntry } from '../../app/usage/request-log.js';
import { usageSummary } from '../../app/usage/summary.js';
import { MISSING_ID } from '../support/api-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const { knex: makeKnex } = knexPkg;

// A tenant route that fails as a bug would: a 500.
const failing = definePlugin({
  name: 'usage-test',
  routes: [{ method: 'get', path: '/boom', tenant: true, handler: async () => { throw new Error('broken on purpose'); } }],
});

async function logRows(s: TestServer): Promise<Record<string, any>[]> {
  return s.rt.db.knex('request_logs').orderBy('created_at').select();
}

/** Makes the database refuse request-log rows (as an unreachable or full database would). */
async function refuseLogRows(s: TestServer, on: boolean): Promise<void> {
  const knex = s.rt.db.knex;
  if (s.rt.db.dialect.name === 'sqlite') {
    await knex.raw(on ? "create trigger refuse_log before insert on request_logs begin select raise(abort, 'refused by the test'); end" : 'drop trigger refuse_log');
  } else {
    await knex.raw(on ? 'alter table request_logs add constraint refuse_log check (false) not valid' : 'alter table request_logs drop constraint refuse_log');
  }
}

describe('request log', () => {
  let s: TestServer;
  let orgA: Org;
  let orgB: Org;
  let keyA: { key: string; id: string };
  let keyB: { key: string; id: string };
  let patient: Record<string, any>;

  before(async () => {
    s = await startTestServer({ plugins: [failing] });
    orgA = await s.createOrg();
    orgB = await s.createOrg();
    keyA = await s.createKey({ orgs: [orgA.slug], scopes: ['*'], rateLimit: 1_000_000, partner: 'Usage Partner' });
    keyB = await s.createKey({ orgs: [orgB.slug], scopes: ['*'], rateLimit: 1_000_000, partner: 'Other Partner' });
  });

  after(async () => {
    await s.close();
  });

  it('logs each API call with its route template, key, partner, org and IP, and the summary counts them exactly', async () => {
    const base = `/api/v1/${orgA.slug}`;
    const created = await s.api('POST', `${base}/patients`, { key: keyA.key, body: { first_name: 'Wilhelmina', last_name: 'Quarrington' } });
    expect(created.status).to.equal(201);
    patient = created.body.data;
    expect((await s.api('GET', `${base}/patients/${patient.id}`, { key: keyA.key })).status).to.equal(200);
    expect((await s.api('GET', `${base}/patients?last_name=Quarrington&limit=5`, { key: keyA.key })).status).to.equal(200);
    expect((await s.api('GET', `${base}/patients/${MISSING_ID}`, { key: keyA.key })).status).to.equal(404);
    expect((await s.api('GET', `${base}/boom`, { key: keyA.key })).status).to.equal(500);
    expect((await s.api('GET', `/api/v1/${orgB.slug}/patients`, { key: keyB.key })).status).to.equal(200);
    // Outside the API: not logged.
    expect((await s.api('GET', '/health')).status).to.be.oneOf([200, 503]);
    await s.rt.requestLog.flush();

    const rows = await logRows(s);
    expect(rows).to.have.length(6);
    const mine = rows.filter((r) => r.org_id === orgA.id);
    expect(mine.map((r) => `${r.method} ${r.route} ${r.status}`)).to.deep.equal([
      'POST /api/v1/:org/patients 201',
      'GET /api/v1/:org/patients/:id 200',
      'GET /api/v1/:org/patients 200',
      'GET /api/v1/:org/patients/:id 404',
      'GET /api/v1/:org/boom 500',
    ]);
    for (const r of mine) {
      expect(r.key_id.toLowerCase()).to.equal(keyA.id.toLowerCase());
      expect(r.partner_id).to.be.a('string');
      expect(r.ip).to.match(/127\.0\.0\.1$/);
      expect(Number(r.duration_ms)).to.be.greaterThan(0);
    }

    const summary = await usageSummary(s.rt, { orgId: orgA.id });
    const durations = mine.reduce((sum, r) => sum + Number(r.duration_ms), 0);
    expect(summary.orgId).to.equal(orgA.id);
    expect(summary.totals.calls).to.equal(5);
    expect(summary.totals.errors).to.equal(2); // the 404 and the 500
    expect(summary.totals.successRate).to.equal(3 / 5);
    expect(summary.totals.averageMs).to.be.closeTo(durations / 5, 1e-6);
    const today = new Date().toISOString().slice(0, 10);
    expect(summary.perDay).to.have.length(7);
    expect(summary.perDay[6]).to.deep.equal({ day: today, calls: 5, errors: 2 });
    expect(summary.perDay.slice(0, 6).every((d) => d.calls === 0 && d.errors === 0)).to.equal(true);
    expect(summary.to).to.equal(today);
    expect(summary.recent.map((r) => `${r.method} ${r.route} ${r.status}`)).to.deep.equal(mine.map((r) => `${r.method} ${r.route} ${r.status}`).reverse());
    expect(summary.recent[0]).to.include({ partnerName: 'Usage Partner', orgSlug: orgA.slug });
    expect(summary.recent[0].keyName).to.be.a('string');
    expect(summary.keys.map((k) => k.id.toLowerCase())).to.deep.equal([keyA.id.toLowerCase()]);
    expect(summary.keys[0]).to.include({ calls: 5, status: 'active', partnerName: 'Usage Partner', lastUsedAt: summary.recent[0].at });

    const everyone = await usageSummary(s.rt);
    expect(everyone.orgId).to.equal(null);
    expect(everyone.totals).to.include({ calls: 6, errors: 2 });
    expect(everyone.keys.map((k) => k.calls).sort()).to.deep.equal([1, 5]);
    expect(everyone.recent[0]).to.include({ orgSlug: orgB.slug, partnerName: 'Other Partner' });
  });

  it('never keeps query values, bodies, concrete paths or credentials', async () => {
    const before = (await logRows(s)).length;
    const base = `/api/v1/${orgA.slug}`;
    await s.api('GET', `${base}/patients?last_name=Quarrington&first_name[like]=Wilhel`, { key: keyA.key });
    await s.api('PATCH', `${base}/patients/${patient.id}`, { key: keyA.key, body: { first_name: 'Bartholomew', base_version: patient.version } });
    await s.api('GET', `${base}/no-such-thing/Quarrington?q=Wilhelmina`, { key: keyA.key });
    const exchanged = await s.api('POST', '/api/v1/auth/token', { body: { apiKey: keyA.key } });
    expect(exchanged.status).to.equal(200);
    await s.rt.requestLog.flush();
    const rows = await logRows(s);
    expect(rows.length - before).to.equal(4);
    const text = JSON.stringify(rows);
    for (const secret of ['Quarrington', 'Wilhel', 'Bartholomew', patient.id, keyA.key, exchanged.body.accessToken, 'no-such-thing', '?']) {
      expect(text, `${secret} in the log`).not.to.contain(secret);
    }
    const routes = rows.slice(before).map((r) => r.route);
    expect(routes).to.include.members(['/api/v1/:org/patients', '/api/v1/:org/patients/:id', '/api/v1/auth/token', 'unmatched']);
    // Calls that name no organization the key may use are kept under the nil organization.
    expect(rows.find((r) => r.route === '/api/v1/auth/token')!.org_id).to.equal(PLATFORM_ORG_ID);
  });

  it('answers every request while the log cannot be written, and counts what it dropped', async () => {
    const summaryBefore = await usageSummary(s.rt, { orgId: orgB.id });
    const rowsBefore = (await logRows(s)).length;
    const droppedBefore = s.rt.requestLog.dropped;
    await refuseLogRows(s, true);
    try {
      for (let i = 0; i < 3; i++) expect((await s.api('GET', `/api/v1/${orgB.slug}/patients`, { key: keyB.key })).status).to.equal(200);
      await s.rt.requestLog.flush();
    } finally {
      await refuseLogRows(s, false);
    }
    expect(s.rt.requestLog.dropped - droppedBefore).to.equal(3);
    const metrics = await s.api('GET', '/metrics');
    expect(metrics.body).to.match(new RegExp(`^request_log_dropped ${s.rt.requestLog.dropped}$`, 'm'));
    expect((await logRows(s)).length).to.equal(rowsBefore);
    // The roll-ups roll back with the rows: nothing counted that the log does not hold.
    expect((await usageSummary(s.rt, { orgId: orgB.id })).totals.calls).to.equal(summaryBefore.totals.calls);

    expect((await s.api('GET', `/api/v1/${orgB.slug}/patients`, { key: keyB.key })).status).to.equal(200);
    await s.rt.requestLog.flush();
    expect((await usageSummary(s.rt, { orgId: orgB.id })).totals.calls).to.equal(summaryBefore.totals.calls + 1);
  });

  it('holds at most REQUEST_LOG_MAX_BUFFER calls and drops (and counts) the rest', async () => {
    const log = new RequestLog(s.rt.db.knex, s.rt.db.statements, { enabled: true, flushMs: 60_000, batchSize: 100, maxBuffer: 3, retentionDays: 30 }, s.rt.logger);
    const entry = (): RequestLogEntry => ({ at: Date.now(), method: 'GET', route: '/api/v1/:org/patients', status: 200, durationMs: 1, orgId: orgB.id, partnerId: null, keyId: null, ip: null });
    for (let i = 0; i < 5; i++) log.record(entry());
    expect(log.pending).to.equal(3);
    expect(log.dropped).to.equal(2);
    await log.close();
    expect(log.written).to.equal(3);
    log.record(entry());
    expect(log.dropped).to.equal(3);
  });

  it('writes a full batch at once, without waiting for the timer', async () => {
    const log = new RequestLog(s.rt.db.knex, s.rt.db.statements, { enabled: true, flushMs: 60_000, batchSize: 4, maxBuffer: 100, retentionDays: 30 }, s.rt.logger);
    for (let i = 0; i < 4; i++) log.record({ at: Date.now(), method: 'GET', route: '/api/v1/:org/patients', status: 200, durationMs: 1, orgId: orgB.id, partnerId: null, keyId: null, ip: null });
    for (let i = 0; i < 100 && log.written < 4; i++) await new Promise((r) => setTimeout(r, 10));
    expect(log.written).to.equal(4);
    await log.close();
  });

  it('deletes raw calls past the retention and keeps their roll-ups', async () => {
    const log = new RequestLog(s.rt.db.knex, s.rt.db.statements, { enabled: true, flushMs: 60_000, batchSize: 100, maxBuffer: 100, retentionDays: 30 }, s.rt.logger);
    const org = await s.createOrg();
    const now = Date.now();
    const at = (daysAgo: number) => now - daysAgo * 86_400_000;
    for (const daysAgo of [40, 31, 29, 0]) log.record({ at: at(daysAgo), method: 'GET', route: '/api/v1/:org/patients', status: 200, durationMs: 2, orgId: org.id, partnerId: null, keyId: null, ip: null });
    await log.flush();
    expect(await log.purge(now)).to.equal(2);
    const left = await s.rt.db.knex('request_logs').where('org_id', org.id).count({ n: '*' });
    expect(Number(left[0].n)).to.equal(2);
    const days = await s.rt.db.knex('request_usage_days').where('org_id', org.id).sum({ calls: 'calls' });
    expect(Number(days[0].calls)).to.equal(4);
    expect((await usageSummary(s.rt, { orgId: org.id, days: 60, now: new Date(now) })).totals.calls).to.equal(4);
    await log.close();
  });
});

describe('request log: switched off and shut down', () => {
  it('REQUEST_LOG=off logs nothing', async () => {
    const s = await startTestServer({ env: { REQUEST_LOG: 'off' } });
    try {
      const org = await s.createOrg();
      const { key } = await s.createKey({ orgs: [org.slug], scopes: ['*'] });
      expect((await s.api('GET', `/api/v1/${org.slug}/patients`, { key })).status).to.equal(200);
      await s.rt.requestLog.flush();
      expect(s.rt.requestLog.enabled).to.equal(false);
      expect(await s.rt.db.knex('request_logs').select()).to.have.length(0);
    } finally {
      await s.close();
    }
  });

  it('writes the calls still held when the runtime closes', async () => {
    const s = await startTestServer({ env: { REQUEST_LOG_FLUSH_MS: '60000' } });
    const org = await s.createOrg();
    const { key } = await s.createKey({ orgs: [org.slug], scopes: ['*'] });
    for (let i = 0; i < 3; i++) expect((await s.api('GET', `/api/v1/${org.slug}/patients`, { key })).status).to.equal(200);
    expect(s.rt.requestLog.pending).to.equal(3);
    expect(await s.rt.db.knex('request_logs').select()).to.have.length(0);
    // Count with a connection of its own once the runtime has closed (and before the test
    // server removes its database).
    const database = s.rt.config.database;
    let written = -1;
    const close = s.rt.close.bind(s.rt);
    s.rt.close = async () => {
      await close();
      const k = database.kind === 'sqlite'
        ? makeKnex({ client: 'better-sqlite3', connection: { filename: database.file }, useNullAsDefault: true })
        : makeKnex({ client: 'pg', connection: database.url, searchPath: [database.schema!] });
      try {
        written = Number((await k('request_logs').count({ n: '*' }))[0].n);
      } finally {
        await k.destroy();
      }
    };
    await s.close();
    expect(written).to.equal(3);
  });
});

describe('request log roll-up counters', () => {
  it('sums calls per organization, UTC day, key and status class', () => {
    const e = (iso: string, status: number, keyId: string | null, durationMs: number): RequestLogEntry => ({ at: Date.parse(iso), method: 'GET', route: 'r', status, durationMs, orgId: 'o', partnerId: null, keyId, ip: null });
    const counters = dailyCounters([
      e('2024-03-01T23:59:59.999Z', 200, 'k', 1),
      e('2024-03-02T00:00:00.000Z', 201, 'k', 2),
      e('2024-03-02T10:00:00.000Z', 204, 'k', 3),
      e('2024-03-02T09:00:00.000Z', 404, 'k', 4),
      e('2024-03-02T08:00:00.000Z', 200, null, 5),
    ]);
    expect(counters.map((c) => [c.day, c.keyId, c.statusClass, c.calls, c.durationMs, new Date(c.lastAt).toISOString()])).to.deep.equal([
      ['2024-03-01', 'k', 2, 1, 1, '2024-03-01T23:59:59.999Z'],
      ['2024-03-02', 'k', 2, 2, 5, '2024-03-02T10:00:00.000Z'],
      ['2024-03-02', 'k', 4, 1, 4, '2024-03-02T09:00:00.000Z'],
      ['2024-03-02', '', 2, 1, 5, '2024-03-02T08:00:00.000Z'],
    ]);
  });
});
