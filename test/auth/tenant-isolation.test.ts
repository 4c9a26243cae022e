import { expect } from 'chai';
import { startTestServer, type ApiResponse, type TestServer } from '../support/server.js';

const A = 'iso-clinic-a';
const B = 'iso-clinic-b';
const pathOf = (org: string, resource: string) => `/api/v1/${org}/${resource}`;

function expectNotFound(res: ApiResponse) {
  expect(res.status, JSON.stringify(res.body)).to.equal(404);
  expect(res.body.error).to.equal('not_found');
  expect(res.body).to.not.have.property('data');
}

describe('tenant isolation', () => {
  let s: TestServer;
  let keyA: string; // '*' bound to org A only
  let keyB: string; // '*' bound to org B only
  let keyAB: string; // '*' bound to both
  let patientA: string;
  let patientB: string;
  let taskA: string;
  let taskB: string;

  const ids = (res: ApiResponse) => (res.body.data as { id: string }[]).map((r) => r.id);

  before(async () => {
    s = await startTestServer();
    await s.createOrg(A);
    await s.createOrg(B);
    keyA = (await s.createKey({ orgs: [A], scopes: ['*'] })).key;
    keyB = (await s.createKey({ orgs: [B], scopes: ['*'] })).key;
    keyAB = (await s.createKey({ orgs: [A, B], scopes: ['*'] })).key;
    const pa = await s.api('POST', pathOf(A, 'patients'), { key: keyA, body: { first_name: 'Alice', last_name: 'Anderson', chart_number: 'SHARED-1' } });
    const pb = await s.api('POST', pathOf(B, 'patients'), { key: keyB, body: { first_name: 'Bob', last_name: 'Bystander', chart_number: 'SHARED-1' } });
    expect(pa.status, JSON.stringify(pa.body)).to.equal(201);
    // A chart number is unique within an organization only.
    expect(pb.status, JSON.stringify(pb.body)).to.equal(201);
    patientA = pa.body.data.id;
    patientB = pb.body.data.id;
    const ta = await s.api('POST', pathOf(A, 'tasks'), { key: keyA, body: { title: 'Task of A', patient_id: patientA } });
    const tb = await s.api('POST', pathOf(B, 'tasks'), { key: keyB, body: { title: 'Task of B', patient_id: patientB } });
    expect(ta.status).to.equal(201);
    expect(tb.status).to.equal(201);
    taskA = ta.body.data.id;
    taskB = tb.body.data.id;
  });
  after(async () => {
    await s?.close();
  });

  describe('a record of another org, addressed by id through the caller\'s own org', () => {
    it('is not found on GET (also with include_archived)', async () => {
      expectNotFound(await s.api('GET', `${pathOf(A, 'patients')}/${patientB}`, { key: keyA }));
      expectNotFound(await s.api('GET', `${pathOf(A, 'patients')}/${patientB}?include_archived=true`, { key: keyA }));
      expectNotFound(await s.api('GET', `${pathOf(A, 'tasks')}/${taskB}`, { key: keyA }));
    });

    it('is not found, and unchanged, on PATCH, PUT, DELETE, archive and restore', async () => {
      const before = (await s.api('GET', `${pathOf(B, 'patients')}/${patientB}`, { key: keyB })).body.data;
      expectNotFound(await s.api('PATCH', `${pathOf(A, 'patients')}/${patientB}`, { key: keyA, body: { first_name: 'Hijacked', base_version: 1 } }));
      expectNotFound(await s.api('PUT', `${pathOf(A, 'patients')}/${patientB}`, { key: keyA, body: { first_name: 'Hijacked', base_version: 1 } }));
      expectNotFound(await s.api('PATCH', `${pathOf(A, 'tasks')}/${taskB}`, { key: keyA, body: { title: 'Hijacked' } }));
      expectNotFound(await s.api('DELETE', `${pathOf(A, 'patients')}/${patientB}`, { key: keyA }));
      expectNotFound(await s.api('POST', `${pathOf(A, 'patients')}/${patientB}/archive`, { key: keyA }));
      expectNotFound(await s.api('DELETE', `${pathOf(A, 'tasks')}/${taskB}`, { key: keyA }));
      const after = (await s.api('GET', `${pathOf(B, 'patients')}/${patientB}`, { key: keyB })).body.data;
      expect(after).to.deep.equal(before);
      expect(after.deleted_at).to.equal(null);
    });

    it('is not found on restore, even when it is archived', async () => {
      const archived = await s.api('POST', `${pathOf(B, 'tasks')}/${taskB}/archive`, { key: keyB });
      expect(archived.status).to.equal(200);
      try {
        expectNotFound(await s.api('POST', `${pathOf(A, 'tasks')}/${taskB}/restore`, { key: keyA }));
        const still = await s.api('GET', `${pathOf(B, 'tasks')}/${taskB}?include_archived=true`, { key: keyB });
        expect(still.body.data.deleted_at).to.be.a('string');
      } finally {
        expect((await s.api('POST', `${pathOf(B, 'tasks')}/${taskB}/restore`, { key: keyB })).status).to.equal(200);
      }
    });

    it('answers exactly like an id that exists nowhere', async () => {
      const nowhere = '01900000-0000-7000-8000-00000000abcd';
      const foreign = await s.api('GET', `${pathOf(A, 'patients')}/${patientB}`, { key: keyA });
      const missing = await s.api('GET', `${pathOf(A, 'patients')}/${nowhere}`, { key: keyA });
      expect(foreign.status).to.equal(missing.status);
      expect(foreign.body.error).to.equal(missing.body.error);
      expect(foreign.body.message).to.equal(missing.body.message);
      expect(Object.keys(foreign.body).sort()).to.deep.equal(Object.keys(missing.body).sort());
    });
  });

  describe('lists', () => {
    it('never contain another org\'s records, filtered, searched, sorted or archived', async () => {
      for (const query of ['', '?include_archived=true', '?search=Bystander', '?search=b', '?chart_number=SHARED-1', '?sort=-created_at', `?id[in]=${patientA},${patientB}`]) {
        const res = await s.api('GET', `${pathOf(A, 'patients')}${query}`, { key: keyA });
        expect(res.status, `${query}: ${JSON.stringify(res.body)}`).to.equal(200);
        expect(ids(res), query).to.not.include(patientB);
        expect(JSON.stringify(res.body), query).to.not.include('Bystander');
        if (res.body.total_count !== undefined) expect(res.body.total_count, query).to.equal(res.body.data.length);
      }
      const chart = await s.api('GET', `${pathOf(A, 'patients')}?chart_number=SHARED-1`, { key: keyA });
      expect(ids(chart)).to.deep.equal([patientA]);
      const tasks = await s.api('GET', `${pathOf(A, 'tasks')}?patient_id=${patientB}`, { key: keyA });
      expect(tasks.body.data).to.deep.equal([]);
    });

    it('never embed another org\'s record, even if a reference to one were stored', async () => {
      // References across orgs are refused on write (below); simulate one that got in anyway.
      const forged = await s.api('POST', pathOf(A, 'tasks'), { key: keyA, body: { title: 'Forged link' } });
      expect(forged.status).to.equal(201);
      await s.rt.db.knex('tasks').where({ id: forged.body.data.id }).update({ patient_id: patientB });
      const one = await s.api('GET', `${pathOf(A, 'tasks')}/${forged.body.data.id}?include=patient`, { key: keyA });
      expect(one.status).to.equal(200);
      expect(one.body.data.patient).to.equal(null);
      const list = await s.api('GET', `${pathOf(A, 'tasks')}?include=patient`, { key: keyA });
      expect(list.status).to.equal(200);
      expect(JSON.stringify(list.body)).to.not.include('Bystander');
      const own = list.body.data.find((t: any) => t.id === taskA);
      expect(own.patient).to.include({ id: patientA, last_name: 'Anderson' });
    });

    it('of audit events show only the caller\'s org', async () => {
      const res = await s.api('GET', `${pathOf(A, 'audit-events')}?limit=100`, { key: keyA });
      expect(res.status).to.equal(200);
      const resourceIds = (res.body.data as any[]).map((e) => e.resource_id);
      expect(resourceIds).to.include(patientA);
      expect(resourceIds).to.not.include(patientB);
      expect(resourceIds).to.not.include(taskB);
      const eventOfB = await s.api('GET', `${pathOf(B, 'audit-events')}?resource_id=${patientB}`, { key: keyB });
      expect(eventOfB.body.data).to.have.length.greaterThan(0);
      expectNotFound(await s.api('GET', `${pathOf(A, 'audit-events')}/${eventOfB.body.data[0].id}`, { key: keyA }));
      const filtered = await s.api('GET', `${pathOf(A, 'audit-events')}?resource_id=${patientB}`, { key: keyA });
      expect(filtered.body.data).to.deep.equal([]);
    });
  });

  describe('the org in the path', () => {
    it('answers 404 when the key is not bound to it, for every route', async () => {
      expectNotFound(await s.api('GET', pathOf(B, 'patients'), { key: keyA }));
      expectNotFound(await s.api('GET', `${pathOf(B, 'patients')}/${patientB}`, { key: keyA }));
      expectNotFound(await s.api('POST', pathOf(B, 'patients'), { key: keyA, body: { first_name: 'X', last_name: 'Y' } }));
      expectNotFound(await s.api('PATCH', `${pathOf(B, 'patients')}/${patientB}`, { key: keyA, body: { first_name: 'X', base_version: 1 } }));
      expectNotFound(await s.api('DELETE', `${pathOf(B, 'patients')}/${patientB}`, { key: keyA }));
      expectNotFound(await s.api('GET', pathOf(B, 'audit-events'), { key: keyA }));
      const count = await s.rt.db.knex('patients').where({ first_name: 'X' }).count({ n: '*' }).first();
      expect(Number(count!.n)).to.equal(0);
    });

    it('does not let a key tell an existing unbound org from one that does not exist', async () => {
      const existing = await s.api('GET', pathOf(B, 'patients'), { key: keyA });
      const absent = await s.api('GET', pathOf('no-such-clinic-x', 'patients'), { key: keyA });
      expect(existing.status).to.equal(404);
      expect(absent.status).to.equal(404);
      expect(existing.body.error).to.equal(absent.body.error);
      expect(Object.keys(existing.body).sort()).to.deep.equal(Object.keys(absent.body).sort());
      expect(existing.body.message.replace(B, '<slug>')).to.equal(absent.body.message.replace('no-such-clinic-x', '<slug>'));
      expect(existing.body.details).to.deep.equal(absent.body.details);
      const headerNames = (r: ApiResponse) => [...r.headers.keys()].filter((h) => !['date', 'content-length', 'x-request-id', 'ratelimit-remaining', 'ratelimit-reset'].includes(h)).sort();
      expect(headerNames(existing)).to.deep.equal(headerNames(absent));
      // And the same for a write.
      const w1 = await s.api('POST', pathOf(B, 'tasks'), { key: keyA, body: { title: 'x' } });
      const w2 = await s.api('POST', pathOf('no-such-clinic-x', 'tasks'), { key: keyA, body: { title: 'x' } });
      expect([w1.status, w1.body.error]).to.deep.equal([w2.status, w2.body.error]);
    });
  });

  describe('a key bound to two orgs', () => {
    it('sees each org\'s own records at that org\'s path only', async () => {
      const listA = await s.api('GET', pathOf(A, 'patients'), { key: keyAB });
      const listB = await s.api('GET', pathOf(B, 'patients'), { key: keyAB });
      expect(ids(listA)).to.include(patientA).and.not.include(patientB);
      expect(ids(listB)).to.include(patientB).and.not.include(patientA);
      expect((await s.api('GET', `${pathOf(A, 'patients')}/${patientA}`, { key: keyAB })).status).to.equal(200);
      expect((await s.api('GET', `${pathOf(B, 'patients')}/${patientB}`, { key: keyAB })).status).to.equal(200);
      expectNotFound(await s.api('GET', `${pathOf(A, 'patients')}/${patientB}`, { key: keyAB }));
      expectNotFound(await s.api('GET', `${pathOf(B, 'patients')}/${patientA}`, { key: keyAB }));
      expectNotFound(await s.api('PATCH', `${pathOf(A, 'tasks')}/${taskB}`, { key: keyAB, body: { title: 'Wrong org' } }));
      expectNotFound(await s.api('DELETE', `${pathOf(B, 'tasks')}/${taskA}`, { key: keyAB }));
    });

    it('creates records in the org of the path', async () => {
      const created = await s.api('POST', pathOf(B, 'tasks'), { key: keyAB, body: { title: 'Made for B' } });
      expect(created.status).to.equal(201);
      const row = await s.rt.db.knex('tasks').where({ id: created.body.data.id }).first('org_id');
      const orgB = await s.rt.db.knex('organizations').where({ slug: B }).first('id');
      expect(row.org_id).to.equal(orgB.id);
      expectNotFound(await s.api('GET', `${pathOf(A, 'tasks')}/${created.body.data.id}`, { key: keyAB }));
    });

    it('cannot link records across its orgs', async () => {
      const res = await s.api('POST', pathOf(A, 'tasks'), { key: keyAB, body: { title: 'Cross link', patient_id: patientB } });
      expect(res.status).to.equal(422);
      expect(res.body.error).to.equal('unprocessable');
    });
  });

  describe('references', () => {
    it('refuse another org\'s patient on create (422) and store nothing', async () => {
      const before = await s.rt.db.knex('tasks').count({ n: '*' }).first();
      const res = await s.api('POST', pathOf(A, 'tasks'), { key: keyA, body: { title: 'Cross-org', patient_id: patientB } });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body.error).to.equal('unprocessable');
      expect(res.body.details).to.deep.include({ path: '/body/patient_id', message: `no patient with id '${patientB}'` });
      const after = await s.rt.db.knex('tasks').count({ n: '*' }).first();
      expect(Number(after!.n)).to.equal(Number(before!.n));
    });

    it('refuse another org\'s patient on update (422) and leave the record unchanged', async () => {
      const res = await s.api('PATCH', `${pathOf(A, 'tasks')}/${taskA}`, { key: keyA, body: { patient_id: patientB } });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body.error).to.equal('unprocessable');
      const task = await s.api('GET', `${pathOf(A, 'tasks')}/${taskA}`, { key: keyA });
      expect(task.body.data.patient_id).to.equal(patientA);
      expect(task.body.data.version).to.equal(1);
    });

    it('refuse another org\'s patient as a patient\'s guarantor', async () => {
      const res = await s.api('PATCH', `${pathOf(A, 'patients')}/${patientA}`, { key: keyA, body: { responsible_party_id: patientB, base_version: 1 } });
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
    });
  });
});
