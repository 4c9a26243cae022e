import { expect } from 'chai';
import type { CreatedKey } from '../../app/auth/api-keys.js';
import type { Org } from '../../app/operations/context.js';
import { startTestServer, type ApiResponse, type TestServer } from '../support/server.js';

const ORG = 'audit-clinic';
const P = `/api/v1/${ORG}/patients`;
const T = `/api/v1/${ORG}/tasks`;
const AUDIT = `/api/v1/${ORG}/audit-events`;
const SSN = '987-65-4320';
const SSN2 = '987-65-4321';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('audit trail', () => {
  let s: TestServer;
  let org: Org;
  let writer: CreatedKey;
  let other: CreatedKey;
  let auditor: string;

  /** Events through the API, oldest first. */
  async function events(query: string): Promise<any[]> {
    const res = await s.api('GET', `${AUDIT}?limit=100&sort=created_at&${query}`, { key: auditor });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.data;
  }
  const auditRowCount = async () => Number((await s.rt.db.knex('audit_events').count({ n: '*' }).first())!.n);

  function expectEventOf(event: any, res: ApiResponse, actor: CreatedKey, action: string, resource: string, resourceId: string, t0: number) {
    expect(event).to.include({ actor_type: 'api_key', actor_id: actor.id, action, resource, resource_id: resourceId });
    expect(event.actor_label).to.equal('Test Partner');
    expect(event.request_id).to.be.a('string').and.equal(res.headers.get('x-request-id'));
    expect(event.ip).to.match(/127\.0\.0\.1$/);
    expect(event.created_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(Date.parse(event.created_at)).to.be.within(t0 - 1000, Date.now() + 1000);
    expect(event.id).to.match(/^[0-9a-f-]{36}$/);
  }

  before(async () => {
    s = await startTestServer();
    org = await s.createOrg(ORG);
    writer = await s.createKey({ orgs: [ORG], scopes: ['patients:write', 'patients:sensitive', 'tasks:write'] });
    other = await s.createKey({ orgs: [ORG], scopes: ['tasks:write'] });
    auditor = (await s.createKey({ orgs: [ORG], scopes: ['audit:read'] })).key;
  });
  after(async () => {
    await s?.close();
  });

  describe('writes', () => {
    let patientId: string;

    it('records a create with the actor, org, request id, ip, time and every value set', async () => {
      const t0 = Date.now();
      const res = await s.api('POST', P, { key: writer.key, body: { first_name: 'Ada', last_name: 'Lovelace', social_security_number: SSN, city: 'London' } });
      expect(res.status).to.equal(201);
      patientId = res.body.data.id;
      const found = await events(`resource_id=${patientId}`);
      expect(found).to.have.length(1);
      const [event] = found;
      expectEventOf(event, res, writer, 'create', 'patient', patientId, t0);
      expect(event.changes.first_name).to.deep.equal({ before: null, after: 'Ada' });
      expect(event.changes.last_name).to.deep.equal({ before: null, after: 'Lovelace' });
      expect(event.changes.city).to.deep.equal({ before: null, after: 'London' });
      expect(event.changes.status).to.deep.equal({ before: null, after: 'active' });
      expect(event.changes.social_security_number).to.deep.equal({ before: null, after: '[redacted]' });
      // Fields left unset are not listed as changes.
      expect(event.changes).to.not.have.property('medicaid_id');
      expect(event.changes).to.not.have.property('middle_name');
      // The org is recorded (and the event is served under that org).
      const row = await s.rt.db.knex('audit_events').where({ id: event.id }).first('org_id');
      expect(row.org_id).to.equal(org.id);
    });

    it('records an update with only the changed fields, sensitive values redacted', async () => {
      const t0 = Date.now();
      const res = await s.api('PATCH', `${P}/${patientId}`, {
        key: writer.key,
        headers: { 'x-request-id': 'req-audit-update-1' },
        body: { first_name: 'Augusta', last_name: 'Lovelace', city: 'London', social_security_number: SSN2, base_version: 1 },
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.headers.get('x-request-id')).to.equal('req-audit-update-1');
      const found = await events(`resource_id=${patientId}&action=update`);
      expect(found).to.have.length(1);
      const [event] = found;
      expectEventOf(event, res, writer, 'update', 'patient', patientId, t0);
      expect(event.request_id).to.equal('req-audit-update-1');
      expect(event.changes).to.deep.equal({
        first_name: { before: 'Ada', after: 'Augusta' },
        social_security_number: { before: '[redacted]', after: '[redacted]' },
      });
    });

    it('records clearing a sensitive value without revealing it', async () => {
      const res = await s.api('PATCH', `${P}/${patientId}`, { key: writer.key, body: { social_security_number: null, base_version: 2 } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const [event] = (await events(`resource_id=${patientId}&action=update`)).slice(-1);
      expect(event.changes).to.deep.equal({ social_security_number: { before: '[redacted]', after: null } });
    });

    it('writes no event for an update that changes nothing', async () => {
      const before = await auditRowCount();
      const res = await s.api('PATCH', `${P}/${patientId}`, { key: writer.key, body: { first_name: 'Augusta', base_version: 3 } });
      expect(res.status).to.equal(200);
      expect(res.body.data.version).to.equal(3);
      expect(await auditRowCount()).to.equal(before);
    });

    it('records an archive and a restore as one event each', async () => {
      const t0 = Date.now();
      const archived = await s.api('DELETE', `${P}/${patientId}`, { key: writer.key });
      expect(archived.status).to.equal(200);
      const deletedAt = archived.body.data.deleted_at;
      expect(deletedAt).to.be.a('string');
      const restored = await s.api('POST', `${P}/${patientId}/restore`, { key: writer.key });
      expect(restored.status).to.equal(200);

      const archives = await events(`resource_id=${patientId}&action=archive`);
      expect(archives).to.have.length(1);
      expectEventOf(archives[0], archived, writer, 'archive', 'patient', patientId, t0);
      expect(archives[0].changes).to.deep.equal({ deleted_at: { before: null, after: deletedAt } });

      const restores = await events(`resource_id=${patientId}&action=restore`);
      expect(restores).to.have.length(1);
      expectEventOf(restores[0], restored, writer, 'restore', 'patient', patientId, t0);
      // plugins/patient-chart brings a restored patient back inactive, in the same audited change.
      expect(restores[0].changes).to.deep.equal({ deleted_at: { before: deletedAt, after: null }, status: { before: 'active', after: 'inactive' } });

      // One event per change of this record, in order (the no-op update above wrote none).
      const all = await events(`resource_id=${patientId}&resource=patient`);
      expect(all.filter((e) => e.action !== 'read' && e.action !== 'list').map((e) => e.action)).to.deep.equal(['create', 'update', 'update', 'archive', 'restore']);
    });

    it('never stores a sensitive value anywhere in the trail', async () => {
      await s.rt.audit.flush();
      const everything = JSON.stringify(await s.rt.db.knex('audit_events').select('*'));
      expect(everything).to.not.include(SSN);
      expect(everything).to.not.include(SSN2);
    });

    it('writes no event for a write that fails', async () => {
      await s.rt.audit.flush();
      const before = await auditRowCount();
      const invalid = await s.api('POST', P, { key: writer.key, body: { first_name: 'No last name' } });
      expect(invalid.status).to.equal(400);
      expect(invalid.body.error).to.equal('validation_error');
      const badRef = await s.api('POST', T, { key: writer.key, body: { title: 'Dangling', patient_id: '01900000-0000-7000-8000-000000000001' } });
      expect(badRef.status).to.equal(422);
      const stale = await s.api('PATCH', `${P}/${patientId}`, { key: writer.key, body: { first_name: 'Stale', base_version: 1 } });
      expect(stale.status).to.equal(409);
      const forbidden = await s.api('POST', P, { key: other.key, body: { first_name: 'A', last_name: 'B' } });
      expect(forbidden.status).to.equal(403);
      const badUpdate = await s.api('PATCH', `${P}/${patientId}`, { key: writer.key, body: { first_name: '', base_version: 5 } });
      expect(badUpdate.status).to.equal(400);
      await s.rt.audit.flush();
      expect(await auditRowCount()).to.equal(before);
      expect(await events(`request_id=${invalid.headers.get('x-request-id')}`)).to.deep.equal([]);
      expect(await events(`request_id=${badRef.headers.get('x-request-id')}`)).to.deep.equal([]);
    });
  });

  describe('reads', () => {
    it('records who viewed a patient, and who listed patients with the ids seen', async () => {
      const created = await s.api('POST', P, { key: writer.key, body: { first_name: 'Read', last_name: 'Me' } });
      const id = created.body.data.id;
      const t0 = Date.now();
      const got = await s.api('GET', `${P}/${id}`, { key: writer.key });
      expect(got.status).to.equal(200);
      const listed = await s.api('GET', `${P}?last_name=Me`, { key: writer.key });
      expect(listed.status).to.equal(200);
      await s.rt.audit.flush();

      const reads = await events(`resource_id=${id}&action=read`);
      expect(reads).to.have.length(1);
      expectEventOf(reads[0], got, writer, 'read', 'patient', id, t0);
      expect(reads[0].changes).to.equal(null);

      const lists = await events(`request_id=${listed.headers.get('x-request-id')}`);
      expect(lists).to.have.length(1);
      expect(lists[0]).to.include({ action: 'list', resource: 'patient', actor_id: writer.id, resource_id: null });
      expect(lists[0].metadata).to.deep.equal({ ids: [id] });
    });

    it('records patient data read through ?include= on another resource', async () => {
      const patient = await s.api('POST', P, { key: writer.key, body: { first_name: 'Embedded', last_name: 'Chart' } });
      const pid = patient.body.data.id;
      const task = await s.api('POST', T, { key: writer.key, body: { title: 'Linked task', patient_id: pid } });
      const tid = task.body.data.id;
      const got = await s.api('GET', `${T}/${tid}?include=patient`, { key: writer.key });
      expect(got.status).to.equal(200);
      expect(got.body.data.patient).to.include({ id: pid, last_name: 'Chart' });
      const listed = await s.api('GET', `${T}?include=patient&patient_id=${pid}`, { key: writer.key });
      expect(listed.body.data[0].patient).to.include({ id: pid });
      // Without ?include= the patient is not read.
      const plain = await s.api('GET', `${T}/${tid}`, { key: writer.key });
      await s.rt.audit.flush();

      const reads = await events(`resource_id=${pid}&action=read`);
      expect(reads.map((e) => e.request_id)).to.deep.equal([got.headers.get('x-request-id'), listed.headers.get('x-request-id')]);
      for (const e of reads) {
        expect(e).to.include({ actor_id: writer.id, resource: 'patient', resource_id: pid });
        expect(e.metadata).to.deep.equal({ via: 'task.patient' });
      }
      expect(await events(`request_id=${plain.headers.get('x-request-id')}`)).to.deep.equal([]);
    });

    it('does not record reads of resources that are not patient data', async () => {
      const task = await s.api('POST', T, { key: other.key, body: { title: 'Not a chart' } });
      await s.api('GET', `${T}/${task.body.data.id}`, { key: other.key });
      await s.rt.audit.flush();
      expect((await events(`resource_id=${task.body.data.id}`)).map((e) => e.action)).to.deep.equal(['create']);
    });
  });

  describe('/audit-events', () => {
    let taskId: string;
    let between: string;

    before(async () => {
      const t = await s.api('POST', T, { key: writer.key, body: { title: 'Filter me' } });
      taskId = t.body.data.id;
      await s.api('PATCH', `${T}/${taskId}`, { key: writer.key, body: { status: 'closed' } });
      await sleep(15);
      between = new Date().toISOString();
      await sleep(15);
      await s.api('PATCH', `${T}/${taskId}`, { key: other.key, body: { priority: 1 } });
      await s.api('DELETE', `${T}/${taskId}`, { key: other.key });
      await s.rt.audit.flush();
    });

    it('filters by resource', async () => {
      const tasks = await events('resource=task');
      expect(tasks.length).to.be.greaterThan(3);
      expect(tasks.every((e) => e.resource === 'task')).to.equal(true);
      const patients = await events('resource=patient');
      expect(patients.length).to.be.greaterThan(0);
      expect(patients.every((e) => e.resource === 'patient')).to.equal(true);
    });

    it('filters by resource_id', async () => {
      const found = await events(`resource_id=${taskId}`);
      expect(found.map((e) => e.action)).to.deep.equal(['create', 'update', 'update', 'archive']);
      expect(found.every((e) => e.resource_id === taskId)).to.equal(true);
    });

    it('filters by actor_id', async () => {
      const mine = await events(`actor_id=${other.id}&resource_id=${taskId}`);
      expect(mine.map((e) => e.action)).to.deep.equal(['update', 'archive']);
      const all = await events(`actor_id=${other.id}`);
      expect(all.length).to.be.greaterThan(0);
      expect(all.every((e) => e.actor_id === other.id)).to.equal(true);
    });

    it('filters by action', async () => {
      const updates = await events(`action=update&resource_id=${taskId}`);
      expect(updates).to.have.length(2);
      expect(updates[0].changes).to.deep.equal({ status: { before: 'open', after: 'closed' } });
      expect(updates[1].changes).to.deep.equal({ priority: { before: 3, after: 1 } });
      const archives = await events('action=archive');
      expect(archives.every((e) => e.action === 'archive')).to.equal(true);
    });

    it('filters by created_at[gte]', async () => {
      const later = await events(`created_at[gte]=${encodeURIComponent(between)}&resource_id=${taskId}`);
      expect(later.map((e) => e.action)).to.deep.equal(['update', 'archive']);
      expect(later.every((e) => e.created_at >= between)).to.equal(true);
      const earlier = await events(`created_at[lt]=${encodeURIComponent(between)}&resource_id=${taskId}`);
      expect(earlier.map((e) => e.action)).to.deep.equal(['create', 'update']);
    });

    it('rejects filters on fields that are not filterable', async () => {
      const res = await s.api('GET', `${AUDIT}?ip=127.0.0.1`, { key: auditor });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('validation_error');
    });

    it('cannot be created, changed or deleted through the API', async () => {
      const full = (await s.createKey({ orgs: [ORG], scopes: ['*'] })).key;
      const [event] = await events(`resource_id=${taskId}`);
      const before = await auditRowCount();
      const attempts = [
        await s.api('POST', AUDIT, { key: full, body: { action: 'create', resource: 'patient', resource_id: 'x' } }),
        await s.api('PATCH', `${AUDIT}/${event.id}`, { key: full, body: { action: 'nothing' } }),
        await s.api('PUT', `${AUDIT}/${event.id}`, { key: full, body: { action: 'nothing' } }),
        await s.api('DELETE', `${AUDIT}/${event.id}`, { key: full }),
        await s.api('POST', `${AUDIT}/${event.id}/archive`, { key: full }),
      ];
      for (const res of attempts) {
        expect([404, 405], JSON.stringify(res.body)).to.include(res.status);
        expect(['not_found', 'method_not_allowed']).to.include(res.body.error);
      }
      expect(await auditRowCount()).to.equal(before);
      const again = await s.api('GET', `${AUDIT}/${event.id}`, { key: auditor });
      expect(again.body.data).to.deep.equal(event);
    });
  });
});
