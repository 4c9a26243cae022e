import { expect } from 'chai';
import { startTestServer, type ApiResponse, type TestServer } from '../support/server.js';

const ORG = 'scope-clinic';
const P = `/api/v1/${ORG}/patients`;
const T = `/api/v1/${ORG}/tasks`;
const KB = '/api/v1/kb';
const AUDIT = `/api/v1/${ORG}/audit-events`;
const SSN = '123-45-6789';
const MEDICAID = 'MCD-998877';
const SENSITIVE = ['social_security_number', 'medicaid_id'];

function expectForbidden(res: ApiResponse) {
  expect(res.status, JSON.stringify(res.body)).to.equal(403);
  expect(res.body.error).to.equal('forbidden');
  expect(res.body.message).to.be.a('string');
  expect(res.body).to.not.have.property('data');
}

function expectNoSensitive(record: Record<string, unknown>) {
  for (const f of SENSITIVE) expect(record, f).to.not.have.property(f);
}

describe('scopes (CASL abilities)', () => {
  let s: TestServer;
  let admin: string;
  let patientId: string;
  let taskId: string;
  const keys: Record<string, string> = {};
  const key = async (...scopes: string[]) => {
    const name = scopes.join(' ');
    keys[name] ??= (await s.createKey({ orgs: [ORG], scopes })).key;
    return keys[name];
  };

  before(async () => {
    s = await startTestServer();
    await s.createOrg(ORG);
    admin = await key('*');
    const p = await s.api('POST', P, { key: admin, body: { first_name: 'Grace', last_name: 'Hopper', social_security_number: SSN, medicaid_id: MEDICAID } });
    expect(p.status, JSON.stringify(p.body)).to.equal(201);
    patientId = p.body.data.id;
    const t = await s.api('POST', T, { key: admin, body: { title: 'Call back', patient_id: patientId } });
    expect(t.status, JSON.stringify(t.body)).to.equal(201);
    taskId = t.body.data.id;
    const a = await s.api('POST', KB, { key: admin, body: { title: 'How to bill', body: 'Step by step.' } });
    expect(a.status, JSON.stringify(a.body)).to.equal(201);
  });
  after(async () => {
    await s?.close();
  });

  describe('patients:read', () => {
    it('lists and gets patients', async () => {
      const k = await key('patients:read');
      const list = await s.api('GET', P, { key: k });
      expect(list.status).to.equal(200);
      expect(list.body.data.map((r: any) => r.id)).to.include(patientId);
      const one = await s.api('GET', `${P}/${patientId}`, { key: k });
      expect(one.status).to.equal(200);
      expect(one.body.data).to.include({ id: patientId, first_name: 'Grace', last_name: 'Hopper' });
    });

    it('may not create, update, archive or restore a patient (403 forbidden)', async () => {
      const k = await key('patients:read');
      const countPatients = async () => Number((await s.rt.db.knex('patients').count({ n: '*' }).first())!.n);
      const before = await countPatients();
      expectForbidden(await s.api('POST', P, { key: k, body: { first_name: 'No', last_name: 'Way' } }));
      expectForbidden(await s.api('PATCH', `${P}/${patientId}`, { key: k, body: { first_name: 'X', base_version: 1 } }));
      expectForbidden(await s.api('PUT', `${P}/${patientId}`, { key: k, body: { first_name: 'X', base_version: 1 } }));
      expectForbidden(await s.api('DELETE', `${P}/${patientId}`, { key: k }));
      expectForbidden(await s.api('POST', `${P}/${patientId}/archive`, { key: k }));
      expectForbidden(await s.api('POST', `${P}/${patientId}/restore`, { key: k }));
      const after = await s.api('GET', `${P}/${patientId}`, { key: admin });
      expect(after.body.data).to.include({ first_name: 'Grace', version: 1 });
      expect(after.body.data.deleted_at).to.equal(null);
      expect(await countPatients()).to.equal(before);
    });

    it('may not touch other resources', async () => {
      const k = await key('patients:read');
      expectForbidden(await s.api('GET', T, { key: k }));
      expectForbidden(await s.api('GET', `${T}/${taskId}`, { key: k }));
      expectForbidden(await s.api('GET', KB, { key: k }));
      expectForbidden(await s.api('GET', AUDIT, { key: k }));
    });
  });

  it('patients:write creates and updates patients', async () => {
    const k = await key('patients:write');
    const created = await s.api('POST', P, { key: k, body: { first_name: 'Alan', last_name: 'Turing' } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const updated = await s.api('PATCH', `${P}/${created.body.data.id}`, { key: k, body: { first_name: 'Alan M.', base_version: 1 } });
    expect(updated.status, JSON.stringify(updated.body)).to.equal(200);
    expect(updated.body.data).to.include({ first_name: 'Alan M.', version: 2 });
    // It may not write other resources.
    expectForbidden(await s.api('POST', T, { key: k, body: { title: 'Nope' } }));
  });

  it('tasks:read reads tasks but not patients, nor patients embedded in tasks', async () => {
    const k = await key('tasks:read');
    const list = await s.api('GET', T, { key: k });
    expect(list.status).to.equal(200);
    expect(list.body.data.map((r: any) => r.id)).to.include(taskId);
    expectForbidden(await s.api('GET', P, { key: k }));
    expectForbidden(await s.api('GET', `${P}/${patientId}`, { key: k }));
    expectForbidden(await s.api('GET', `${T}/${taskId}?include=patient`, { key: k }));
    expectForbidden(await s.api('GET', `${T}?include=patient`, { key: k }));
    expectForbidden(await s.api('POST', T, { key: k, body: { title: 'Nope' } }));
  });

  it('*:read reads every resource but writes none', async () => {
    const k = await key('*:read');
    for (const path of [P, `${P}/${patientId}`, T, `${T}/${taskId}`, KB, AUDIT]) {
      const res = await s.api('GET', path, { key: k });
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(200);
    }
    expectForbidden(await s.api('POST', P, { key: k, body: { first_name: 'A', last_name: 'B' } }));
    expectForbidden(await s.api('POST', T, { key: k, body: { title: 'A' } }));
    expectForbidden(await s.api('POST', KB, { key: k, body: { title: 'A', body: 'B' } }));
    expectForbidden(await s.api('PATCH', `${T}/${taskId}`, { key: k, body: { title: 'Changed' } }));
    expectForbidden(await s.api('DELETE', `${T}/${taskId}`, { key: k }));
    // *:read is not sensitive.
    expectNoSensitive((await s.api('GET', `${P}/${patientId}`, { key: k })).body.data);
  });

  it('* does everything, sensitive fields included', async () => {
    const k = await key('*');
    const p = await s.api('POST', P, { key: k, body: { first_name: 'Ada', last_name: 'Lovelace', social_security_number: '111-22-3333' } });
    expect(p.status).to.equal(201);
    expect(p.body.data.social_security_number).to.equal('111-22-3333');
    const t = await s.api('POST', T, { key: k, body: { title: 'Everything' } });
    expect(t.status).to.equal(201);
    expect((await s.api('PATCH', `${T}/${t.body.data.id}`, { key: k, body: { status: 'closed' } })).status).to.equal(200);
    expect((await s.api('DELETE', `${T}/${t.body.data.id}`, { key: k })).status).to.equal(200);
    expect((await s.api('POST', `${T}/${t.body.data.id}/restore`, { key: k })).status).to.equal(200);
    const a = await s.api('POST', KB, { key: k, body: { title: 'Everything', body: 'All of it.' } });
    expect(a.status).to.equal(201);
    expect((await s.api('GET', AUDIT, { key: k })).status).to.equal(200);
  });

  describe('sensitive fields', () => {
    it('are absent from get and list without patients:sensitive', async () => {
      const k = await key('patients:read');
      const one = await s.api('GET', `${P}/${patientId}`, { key: k });
      expect(one.status).to.equal(200);
      expectNoSensitive(one.body.data);
      expect(one.body.data).to.have.property('first_name'); // other fields are there
      const list = await s.api('GET', P, { key: k });
      expect(list.body.data.length).to.be.greaterThan(0);
      for (const row of list.body.data) expectNoSensitive(row);
      expect(JSON.stringify(list.body)).to.not.include(SSN).and.not.include(MEDICAID);
    });

    it('are absent from the create and update responses without patients:sensitive', async () => {
      const k = await key('patients:write');
      const created = await s.api('POST', P, { key: k, body: { first_name: 'Mary', last_name: 'Jackson' } });
      expect(created.status).to.equal(201);
      expectNoSensitive(created.body.data);
      const updated = await s.api('PATCH', `${P}/${created.body.data.id}`, { key: k, body: { last_name: 'Jackson-Smith', base_version: 1 } });
      expect(updated.status).to.equal(200);
      expectNoSensitive(updated.body.data);
    });

    it('are present with patients:sensitive', async () => {
      const k = await key('patients:read', 'patients:sensitive');
      const one = await s.api('GET', `${P}/${patientId}`, { key: k });
      expect(one.body.data).to.include({ social_security_number: SSN, medicaid_id: MEDICAID });
      const list = await s.api('GET', P, { key: k });
      const row = list.body.data.find((r: any) => r.id === patientId);
      expect(row).to.include({ social_security_number: SSN, medicaid_id: MEDICAID });
      const w = await key('patients:write', 'patients:sensitive');
      const created = await s.api('POST', P, { key: w, body: { first_name: 'Katherine', last_name: 'Johnson', medicaid_id: 'MCD-1' } });
      expect(created.status).to.equal(201);
      expect(created.body.data).to.include({ medicaid_id: 'MCD-1', social_security_number: null });
    });

    it('cannot be written without patients:sensitive, so a write-only key cannot probe a value', async () => {
      const w = await key('patients:write');
      const created = await s.api('POST', P, { key: w, body: { first_name: 'Dorothy', last_name: 'Vaughan', social_security_number: '999-88-7777' } });
      expectForbidden(created);
      expect(created.body.details).to.deep.equal([{ path: '/body/social_security_number', message: 'needs the sensitive scope' }]);
      const probe = await s.api('PATCH', `${P}/${patientId}`, { key: w, body: { social_security_number: SSN, base_version: 1 } });
      expectForbidden(probe);
      const after = await s.api('GET', `${P}/${patientId}`, { key: admin });
      expect(after.body.data.social_security_number).to.equal(SSN);
    });

    it('patients:sensitive alone does not grant reading patients', async () => {
      const k = await key('patients:sensitive');
      expectForbidden(await s.api('GET', P, { key: k }));
      expectForbidden(await s.api('GET', `${P}/${patientId}`, { key: k }));
    });

    it('cannot be selected with ?fields= without patients:sensitive', async () => {
      const k = await key('patients:read');
      const one = await s.api('GET', `${P}/${patientId}?fields=social_security_number`, { key: k });
      expect(one.status).to.equal(200);
      expect(one.body.data).to.deep.equal({ id: patientId });
      const list = await s.api('GET', `${P}?fields=first_name,social_security_number,medicaid_id`, { key: k });
      expect(list.status).to.equal(200);
      for (const row of list.body.data) {
        expectNoSensitive(row);
        expect(Object.keys(row).sort()).to.deep.equal(['first_name', 'id']);
      }
      const sensitive = await key('patients:read', 'patients:sensitive');
      const withScope = await s.api('GET', `${P}/${patientId}?fields=social_security_number`, { key: sensitive });
      expect(withScope.body.data).to.deep.equal({ id: patientId, social_security_number: SSN });
    });

    it('are absent from patients embedded with ?include= without patients:sensitive', async () => {
      const k = await key('tasks:read', 'patients:read');
      const one = await s.api('GET', `${T}/${taskId}?include=patient`, { key: k });
      expect(one.status, JSON.stringify(one.body)).to.equal(200);
      expect(one.body.data.patient).to.include({ id: patientId, last_name: 'Hopper' });
      expectNoSensitive(one.body.data.patient);
      const list = await s.api('GET', `${T}?include=patient`, { key: k });
      expect(JSON.stringify(list.body)).to.not.include(SSN);
      const sensitive = await key('tasks:read', 'patients:read', 'patients:sensitive');
      const full = await s.api('GET', `${T}/${taskId}?include=patient`, { key: sensitive });
      expect(full.body.data.patient).to.include({ social_security_number: SSN });
    });
  });

  it('kb:read reads the global knowledge base, and only kb:write writes it', async () => {
    const k = await key('kb:read');
    const list = await s.api('GET', KB, { key: k });
    expect(list.status).to.equal(200);
    expect(list.body.data.map((a: any) => a.title)).to.include('How to bill');
    const id = list.body.data[0].id;
    expect((await s.api('GET', `${KB}/${id}`, { key: k })).status).to.equal(200);
    expectForbidden(await s.api('POST', KB, { key: k, body: { title: 'A', body: 'B' } }));
    expectForbidden(await s.api('PATCH', `${KB}/${id}`, { key: k, body: { title: 'Changed' } }));
    expectForbidden(await s.api('GET', P, { key: k }));
    const w = await key('kb:write');
    expect((await s.api('POST', KB, { key: w, body: { title: 'New article', body: 'Text' } })).status).to.equal(201);
  });

  it('audit:read is needed for /audit-events', async () => {
    expectForbidden(await s.api('GET', AUDIT, { key: await key('patients:write', 'tasks:write', 'kb:write') }));
    const k = await key('audit:read');
    const res = await s.api('GET', AUDIT, { key: k });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data.length).to.be.greaterThan(0);
    expect((await s.api('GET', `${AUDIT}/${res.body.data[0].id}`, { key: k })).status).to.equal(200);
    // audit:read reads nothing else.
    expectForbidden(await s.api('GET', P, { key: k }));
  });

  it('rejects keys with unknown scopes when they are issued', async () => {
    let error: any;
    try {
      await s.createKey({ orgs: [ORG], scopes: ['gadgets:read'] });
    } catch (err) {
      error = err;
    }
    expect(error?.code).to.equal('validation_error');
  });
});
