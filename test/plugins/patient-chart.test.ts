import { expect } from 'chai';
import { definePlugin, type DomainEvent } from '../../app/core/plugin.js';
import { ALLOWED_MOVES, PATIENT_STATUSES, type PatientStatus } from '../../plugins/patient-chart/index.js';
import { detailPaths, expectError, MISSING_ID } from '../support/api-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The patient lifecycle of plugins/patient-chart, over HTTP, with the real plugin loaded from
// plugins/ as the server loads it, and a subscriber plugin that records the status events.

const received: DomainEvent[] = [];
const listener = definePlugin({
  name: 'patient-status-listener',
  events: Object.fromEntries(PATIENT_STATUSES.map((s) => [`patient.${s}`, (event: DomainEvent) => { received.push(event); }])),
});

async function eventually<T>(probe: () => T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The path from a new patient (created `active`, or `prospective`) to each status. */
const ROUTE: Record<Exclude<PatientStatus, 'archived'>, { start: 'active' | 'prospective'; moves: PatientStatus[] }> = {
  prospective: { start: 'prospective', moves: [] },
  active: { start: 'active', moves: [] },
  inactive: { start: 'active', moves: ['inactive'] },
  deceased: { start: 'active', moves: ['deceased'] },
};

describe('patient lifecycle (plugins/patient-chart)', () => {
  let s: TestServer;
  let key: string;
  let base: string;
  let n = 0;

  const post = (path: string, body?: Record<string, unknown>) => s.api('POST', `${base}${path}`, { key, body });
  const get = async (id: string) => (await s.api('GET', `${base}/${id}?include_archived=true`, { key })).body.data;
  const newPatient = async (extra: Record<string, unknown> = {}) => {
    const res = await post('', { first_name: 'Pat', last_name: `Life ${++n}`, ...extra });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.data as Record<string, any>;
  };
  const move = (p: { id: string; version: number }, to: string) => post(`/${p.id}/transition-status`, { new_status: to, base_version: p.version });
  /** A patient brought to `status` through allowed moves. */
  const patientIn = async (status: PatientStatus) => {
    if (status === 'archived') {
      const p = await newPatient();
      const res = await post(`/${p.id}/archive`);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body.data;
    }
    let p = await newPatient({ status: ROUTE[status].start });
    for (const to of ROUTE[status].moves) {
      const res = await move(p as any, to);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      p = res.body.data;
    }
    expect(p.status).to.equal(status);
    return p;
  };

  before(async () => {
    s = await startTestServer({ plugins: [listener] });
    const org = await s.createOrg();
    key = (await s.createKey({ orgs: [org.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
    base = `/api/v1/${org.slug}/patients`;
  });
  after(async () => {
    await s?.close();
  });

  it('is loaded from plugins/ by the runtime, with its action and error codes', () => {
    expect(s.rt.kernel.action('patient', 'transition-status', 'record')).to.not.equal(undefined);
    expect(s.rt.kernel.plugins.map((p) => p.name)).to.include('patient-chart');
  });

  describe('transition-status: every move', () => {
    const sources = PATIENT_STATUSES.filter((s) => s !== 'archived') as Exclude<PatientStatus, 'archived'>[];
    for (const from of sources) {
      for (const to of PATIENT_STATUSES) {
        const allowed = ALLOWED_MOVES[from].includes(to);
        it(`${from} → ${to} is ${allowed ? 'allowed' : 'refused'}`, async () => {
          const p = await patientIn(from);
          const res = await move(p, to);
          if (allowed) {
            expect(res.status, JSON.stringify(res.body)).to.equal(200);
            expect(res.body.data).to.include({ id: p.id, status: to, version: p.version + 1 });
            expect((await get(p.id)).status).to.equal(to);
            const event = await eventually(() => received.find((e) => e.resource_id === p.id && e.type === `patient.${to}`));
            expect(event.payload).to.include({ from, to });
            expect(event.resource).to.equal('patient');
          } else {
            expectError(res, 422, 'invalid_transition');
            expect(res.body.message).to.include(to).and.include(from === to ? 'already' : from);
            expect(res.body.details[0]).to.deep.include({ path: '/body/new_status', from, to });
            const after = await get(p.id);
            expect(after).to.include({ status: from, version: p.version });
          }
        });
      }
    }
  });

  it('encodes exactly the catalog moves', () => {
    expect(ALLOWED_MOVES).to.deep.equal({
      prospective: ['active'], active: ['inactive', 'deceased'], inactive: ['active'], deceased: [], archived: [],
    });
  });

  it('emits no status event for a refused move, and one per allowed move', async () => {
    const p = await patientIn('active');
    expect((await move(p, 'prospective')).status).to.equal(422);
    const moved = (await move(p, 'inactive')).body.data;
    const back = (await move(moved, 'active')).body.data;
    expect(back.status).to.equal('active');
    await eventually(() => received.find((e) => e.resource_id === p.id && e.type === 'patient.active'));
    expect(received.filter((e) => e.resource_id === p.id).map((e) => e.type)).to.deep.equal(['patient.inactive', 'patient.active']);
  });

  it('refuses a stale or missing base_version, a bad body and an archived or unknown patient', async () => {
    const p = await patientIn('active');
    const stale = await post(`/${p.id}/transition-status`, { new_status: 'inactive', base_version: p.version + 1 });
    expectError(stale, 409, 'version_conflict');
    expectError(await post(`/${p.id}/transition-status`, { new_status: 'inactive' }), 400, 'validation_error');
    const bad = await post(`/${p.id}/transition-status`, { new_status: 'asleep', base_version: p.version });
    expectError(bad, 400, 'validation_error');
    expect(detailPaths(bad)).to.deep.equal(['/body/new_status']);
    expectError(await post(`/${p.id}/transition-status`, { to: 'inactive', base_version: p.version }), 400, 'validation_error');
    const archived = await patientIn('archived');
    expectError(await move(archived, 'active'), 404, 'not_found');
    expectError(await move({ id: MISSING_ID, version: 1 }, 'active'), 404, 'not_found');
    expect((await get(p.id)).status).to.equal('active');
  });

  describe('status on create and update', () => {
    it('defaults to active and accepts prospective on create', async () => {
      expect((await newPatient()).status).to.equal('active');
      expect((await newPatient({ status: 'active' })).status).to.equal('active');
      expect((await newPatient({ status: 'prospective' })).status).to.equal('prospective');
    });

    for (const status of ['inactive', 'deceased', 'archived']) {
      it(`refuses ${status} on create, naming /body/status`, async () => {
        const res = await post('', { first_name: 'Pat', last_name: 'Refused', status });
        expectError(res, 400, 'validation_error');
        expect(res.body.details).to.deep.equal([{ path: '/body/status', message: 'must be one of active, prospective on create; it is changed with POST …/patients/{id}/transition-status' }]);
      });
    }

    it('refuses status in PATCH, even the current one, and keeps the record', async () => {
      const p = await newPatient();
      for (const status of ['inactive', 'active']) {
        const res = await s.api('PATCH', `${base}/${p.id}`, { key, body: { base_version: p.version, status } });
        expectError(res, 400, 'validation_error');
        expect(detailPaths(res)).to.deep.equal(['/body/status']);
      }
      expect(await get(p.id)).to.include({ status: 'active', version: p.version });
      const ok = await s.api('PATCH', `${base}/${p.id}`, { key, body: { base_version: p.version, city: 'Toronto' } });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
    });
  });

  describe('archive and restore', () => {
    const dependent = async (guarantorId: string, status: PatientStatus) => {
      const d = await patientIn(status === 'archived' ? 'active' : status);
      const res = await s.api('PATCH', `${base}/${d.id}`, { key, body: { base_version: d.version, responsible_party_id: guarantorId } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      if (status === 'archived') {
        const archived = await post(`/${d.id}/archive`);
        expect(archived.status, JSON.stringify(archived.body)).to.equal(200);
        return archived.body.data;
      }
      return res.body.data;
    };

    it('refuses to archive the guarantor of active dependents, and allows it once none is active', async () => {
      const g = await patientIn('active');
      const a = await dependent(g.id, 'active');
      const b = await dependent(g.id, 'active');
      await dependent(g.id, 'deceased');
      const refused = await post(`/${g.id}/archive`);
      expectError(refused, 422, 'has_active_dependents');
      expect(refused.body.message).to.include('2 active patients');
      expect(refused.body.details).to.deep.equal([{ path: '/path/id', message: 'is the guarantor of active patients', active_dependents: 2 }]);
      expect(await get(g.id)).to.include({ deleted_at: null, version: g.version });

      expect((await move(a, 'inactive')).status).to.equal(200);
      expectError(await post(`/${g.id}/archive`), 422, 'has_active_dependents');
      expect((await post(`/${b.id}/archive`)).status).to.equal(200);
      const archived = await post(`/${g.id}/archive`);
      expect(archived.status, JSON.stringify(archived.body)).to.equal(200);
      expect(archived.body.data.deleted_at).to.be.a('string');
    });

    it('lets a patient who is its own guarantor, or guarantor of archived dependents only, be archived', async () => {
      const self = await patientIn('active');
      expect((await s.api('PATCH', `${base}/${self.id}`, { key, body: { base_version: self.version, responsible_party_id: self.id } })).status).to.equal(200);
      expect((await post(`/${self.id}/archive`)).status).to.equal(200);
      const g = await patientIn('active');
      await dependent(g.id, 'archived');
      expect((await post(`/${g.id}/archive`)).status).to.equal(200);
    });

    it('restores a patient as inactive, from where it can be re-activated', async () => {
      const p = await patientIn('prospective');
      const archived = (await post(`/${p.id}/archive`)).body.data;
      const restored = await post(`/${p.id}/restore`);
      expect(restored.status, JSON.stringify(restored.body)).to.equal(200);
      expect(restored.body.data).to.include({ status: 'inactive', deleted_at: null, version: archived.version + 1, scheduling_restricted: true });
      expect(await get(p.id)).to.include({ status: 'inactive', deleted_at: null });
      expect((await s.api('GET', `${base}?status=inactive&last_name=${encodeURIComponent(p.last_name)}`, { key })).body.total_count).to.equal(1);
      expectError(await post(`/${p.id}/restore`), 422, 'unprocessable');
      const active = await move(restored.body.data, 'active');
      expect(active.status, JSON.stringify(active.body)).to.equal(200);
      expect(active.body.data.status).to.equal('active');
    });
  });

  describe('scheduling_restricted (catalog §3.9)', () => {
    for (const status of ['active', 'prospective', 'inactive', 'deceased'] as const) {
      it(`is ${status === 'inactive'} for a ${status} patient with no balance`, async () => {
        const p = await patientIn(status);
        expect(p.scheduling_restricted).to.equal(status === 'inactive');
        expect((await get(p.id)).scheduling_restricted).to.equal(status === 'inactive');
      });
    }

    it('is true only when balance_total exceeds 500', async () => {
      const knex = s.rt.db.knex;
      for (const [balance, restricted] of [['500.00', false], ['500.01', true], ['0.00', false], ['1200.50', true]] as const) {
        const p = await patientIn('active');
        await knex('patients').where('id', p.id).update({ balance_total: balance });
        expect((await get(p.id)).scheduling_restricted, balance).to.equal(restricted);
      }
    });
  });
});
