import { expect } from 'chai';
import { MISSING_ID, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// A patient's communication log (seed 001 §1.8, §2.10, §3.17): append-only, nested under the patient.

describe('Chart sub-resource: communication logs', () => {
  let f: Fixture;
  let patient: Row;
  let otherPatient: Row;
  const logs: Row[] = [];

  before(async () => {
    f = await setupApi();
    patient = await createPatient(f, { first_name: 'Ada', last_name: 'Comm' });
    otherPatient = await createPatient(f, { first_name: 'Bob', last_name: 'Comm' });
  });

  after(async () => {
    await f.s.close();
  });

  const path = (p: Row) => `patients/${p.id}/communication-logs`;
  const post = (p: Row, body: Row, key = f.key) => f.s.api('POST', `${f.base}/${path(p)}`, { key, body });

  it('logs a communication with communication_source user, the patient from the URL and the caller as created_by', async () => {
    const res = await post(patient, { communication_datetime: '2025-01-15T09:00:00Z', mode: 'phone', direction: 'sent', note: 'Reminder about the lab results' });
    expect(res.status).to.equal(201);
    expect(res.body.data).to.include({ patient_id: patient.id, mode: 'phone', direction: 'sent', communication_source: 'user', note: 'Reminder about the lab results' });
    expect(res.body.data.communication_datetime).to.match(/^2025-01-15T09:00:00(\.000)?Z$/);
    expect(res.body.data.created_by).to.be.a('string').and.not.empty;
    expect(res.headers.get('location')).to.equal(`${f.base}/${path(patient)}/${res.body.data.id}`);
    logs.push(res.body.data);
    for (const body of [
      { communication_datetime: '2025-02-01T10:00:00Z', mode: 'email', direction: 'received', note: 'Insurance card copy attached' },
      { communication_datetime: '2025-03-10T15:30:00Z', mode: 'text', direction: 'sent', note: 'Appointment reminder' },
      { communication_datetime: '2024-12-20T08:00:00Z', mode: 'in_person', direction: 'neither' },
    ]) {
      const r = await post(patient, body);
      expect(r.status).to.equal(201);
      logs.push(r.body.data);
    }
    expect((await post(otherPatient, { communication_datetime: '2025-02-02T10:00:00Z', mode: 'email', direction: 'sent', note: 'Insurance' })).status).to.equal(201);
  });

  it('requires communication_datetime, refuses values outside mode and direction, and a communication_source or patient_id in the body', async () => {
    const missing = await post(patient, { mode: 'phone' });
    expectError(missing, 400, 'validation_error');
    expect(detailPaths(missing)).to.deep.equal(['/body/communication_datetime']);
    const bad = await post(patient, { communication_datetime: '2025-01-15T09:00:00Z', mode: 'pigeon', direction: 'sideways' });
    expectError(bad, 400, 'validation_error');
    expect(detailPaths(bad).sort()).to.deep.equal(['/body/direction', '/body/mode']);
    for (const extra of [{ communication_source: 'automated' }, { patient_id: otherPatient.id }]) {
      expectError(await post(patient, { communication_datetime: '2025-01-15T09:00:00Z', ...extra }), 400, 'validation_error');
    }
  });

  it('lists the patient in the URL only, newest communication first', async () => {
    const page = await list(f, path(patient));
    expect(ids(page.data)).to.deep.equal([logs[2].id, logs[1].id, logs[0].id, logs[3].id]);
  });

  it('filters by date range with communication_datetime[gte] / [lte]', async () => {
    const page = await list(f, `${path(patient)}?communication_datetime[gte]=2025-01-01T00:00:00Z&communication_datetime[lte]=2025-02-01T23:59:59Z`);
    expect(ids(page.data)).to.deep.equal([logs[1].id, logs[0].id]);
  });

  it('filters by mode, direction and communication_source', async () => {
    expect(ids((await list(f, `${path(patient)}?mode=email`)).data)).to.deep.equal([logs[1].id]);
    expect(ids((await list(f, `${path(patient)}?direction=sent`)).data)).to.deep.equal([logs[2].id, logs[0].id]);
    expect((await list(f, `${path(patient)}?communication_source=user`)).data).to.have.length(4);
    expect((await list(f, `${path(patient)}?communication_source=automated`)).data).to.have.length(0);
    expectError(await f.s.api('GET', `${f.base}/${path(patient)}?mode=pigeon`, { key: f.key }), 400, 'validation_error');
  });

  it('searches the note with ?search=', async () => {
    expect(ids((await list(f, `${path(patient)}?search=insurance`)).data)).to.deep.equal([logs[1].id]);
    expect(ids((await list(f, `${path(patient)}?search=reminder`)).data)).to.deep.equal([logs[2].id, logs[0].id]);
  });

  it('has no update or delete: PATCH, PUT and DELETE are refused and the entry is unchanged', async () => {
    const url = `${f.base}/${path(patient)}/${logs[0].id}`;
    for (const method of ['PATCH', 'PUT', 'DELETE'] as const) {
      const res = await f.s.api(method, url, { key: f.key, body: method === 'DELETE' ? undefined : { note: 'changed' } });
      expectError(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow'), method).to.not.match(/PATCH|PUT|DELETE/);
    }
    expect((await f.s.api('POST', `${url}/archive`, { key: f.key })).status).to.be.oneOf([404, 405]);
    const got = await f.s.api('GET', url, { key: f.key });
    expect(got.status).to.equal(200);
    expect(got.body.data.note).to.equal('Reminder about the lab results');
  });

  it('answers a missing patient or one of another organization with 404', async () => {
    expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/communication-logs`, { key: f.key }), 404, 'not_found');
    expectError(await f.s.api('POST', `${f.base}/patients/${MISSING_ID}/communication-logs`, { key: f.key, body: { communication_datetime: '2025-01-15T09:00:00Z' } }), 404, 'not_found');
    const org2 = await f.s.createOrg();
    const both = (await f.s.createKey({ orgs: [f.org.slug, org2.slug], scopes: ['*'], rateLimit: 100000 })).key;
    const base2 = `/api/v1/${org2.slug}`;
    expectError(await f.s.api('GET', `${base2}/${path(patient)}`, { key: both }), 404, 'not_found');
    expectError(await f.s.api('GET', `${base2}/${path(patient)}/${logs[0].id}`, { key: both }), 404, 'not_found');
    expectError(await f.s.api('POST', `${base2}/${path(patient)}`, { key: both, body: { communication_datetime: '2025-01-15T09:00:00Z' } }), 404, 'not_found');
  });

  it('is served under the patients scope: read for GET, write for POST', async () => {
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'], rateLimit: 100000 })).key;
    const writer = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:write'], rateLimit: 100000 })).key;
    const tasks = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['tasks:write'], rateLimit: 100000 })).key;
    expect((await f.s.api('GET', `${f.base}/${path(patient)}`, { key: reader })).status).to.equal(200);
    expectError(await post(patient, { communication_datetime: '2025-01-15T09:00:00Z' }, reader), 403, 'forbidden');
    expectError(await f.s.api('GET', `${f.base}/${path(patient)}`, { key: tasks }), 403, 'forbidden');
    expect((await post(otherPatient, { communication_datetime: '2025-01-16T09:00:00Z' }, writer)).status).to.equal(201);
  });
});
