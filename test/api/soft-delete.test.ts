import { expect } from 'chai';
import { create, createPatient, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

describe('Soft delete, archive and restore', () => {
  let f: Fixture;

  const get = (resource: string, id: string, query = '') => f.s.api('GET', `${f.base}/${resource}/${id}${query}`, { key: f.key });

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  for (const [label, method, suffix] of [['DELETE', 'DELETE', ''], ['POST /archive', 'POST', '/archive']] as const) {
    it(`${label} sets deleted_at, bumps the version and hides the record`, async () => {
      const p = await createPatient(f, { first_name: 'Arch', last_name: `Ived ${label}` });
      const keep = await createPatient(f, { first_name: 'Stays', last_name: `Here ${label}` });
      const res = await f.s.api(method, `${f.base}/patients/${p.id}${suffix}`, { key: f.key });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.data.id).to.equal(p.id);
      expect(res.body.data.deleted_at).to.match(/^\d{4}-\d{2}-\d{2}T/);
      expect(res.body.data.version).to.equal(2);
      expect(res.headers.get('etag')).to.equal('W/"2"');

      expectError(await get('patients', p.id), 404, 'not_found');
      const archived = await get('patients', p.id, '?include_archived=true');
      expect(archived.status).to.equal(200);
      expect(archived.body.data).to.include({ id: p.id, version: 2, first_name: 'Arch' });
      expect(archived.body.data.deleted_at).to.equal(res.body.data.deleted_at);

      const listed = await list(f, `patients?last_name[like]=${encodeURIComponent(label)}`);
      expect(ids(listed.data)).to.deep.equal([keep.id]);
      expect(listed.total_count).to.equal(1);
      const all = await list(f, `patients?last_name[like]=${encodeURIComponent(label)}&include_archived=true`);
      expect(ids(all.data)).to.have.members([p.id, keep.id]);
      expect(all.total_count).to.equal(2);
    });
  }

  it('restore clears deleted_at, bumps the version and brings the record back', async () => {
    const p = await createPatient(f, { first_name: 'Come', last_name: 'Back' });
    expect((await f.s.api('POST', `${f.base}/patients/${p.id}/archive`, { key: f.key })).status).to.equal(200);
    const res = await f.s.api('POST', `${f.base}/patients/${p.id}/restore`, { key: f.key });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data.deleted_at ?? null).to.equal(null);
    expect(res.body.data.version).to.equal(3);
    const got = await get('patients', p.id);
    expect(got.status).to.equal(200);
    expect(got.body.data.deleted_at ?? null).to.equal(null);
    expect(got.body.data.version).to.equal(3);
    expect(ids((await list(f, 'patients?last_name=Back')).data)).to.deep.equal([p.id]);
  });

  it('answers a restore of a record that is not archived with 422', async () => {
    const p = await createPatient(f, { first_name: 'Never', last_name: 'Archived' });
    expectError(await f.s.api('POST', `${f.base}/patients/${p.id}/restore`, { key: f.key }), 422, 'unprocessable');
    expect((await get('patients', p.id)).body.data.version).to.equal(1);
  });

  it('keeps archived records out of updates until restored', async () => {
    const p = await createPatient(f, { first_name: 'Frozen', last_name: 'Record' });
    await f.s.api('DELETE', `${f.base}/patients/${p.id}`, { key: f.key });
    expectError(await f.s.api('PATCH', `${f.base}/patients/${p.id}`, { key: f.key, body: { base_version: 2, city: 'X' } }), 404, 'not_found');
    expectError(await f.s.api('DELETE', `${f.base}/patients/${p.id}`, { key: f.key }), 404, 'not_found');
    await f.s.api('POST', `${f.base}/patients/${p.id}/restore`, { key: f.key });
    const upd = await f.s.api('PATCH', `${f.base}/patients/${p.id}`, { key: f.key, body: { base_version: 3, city: 'X' } });
    expect(upd.status).to.equal(200);
    expect(upd.body.data.version).to.equal(4);
  });

  it('never hard-deletes: the archived row is still stored', async () => {
    const task = await create(f, 'tasks', { title: 'Keep me' });
    const res = await f.s.api('DELETE', `${f.base}/tasks/${task.id}`, { key: f.key });
    expect(res.status).to.equal(200);
    const row = await f.s.rt.db.knex('tasks').where({ id: task.id }).first();
    expect(row).to.not.equal(undefined);
    expect(row.deleted_at).to.not.equal(null);
    expect((await list(f, 'tasks?include_archived=true')).data.map((t: { id: string }) => t.id)).to.include(task.id);
    expect((await list(f, 'tasks')).data.map((t: { id: string }) => t.id)).to.not.include(task.id);
  });

  it('audits archive and restore', async () => {
    const p = await createPatient(f, { first_name: 'Audit', last_name: 'Trail' });
    await f.s.api('POST', `${f.base}/patients/${p.id}/archive`, { key: f.key });
    await f.s.api('POST', `${f.base}/patients/${p.id}/restore`, { key: f.key });
    const events = (await list(f, `audit-events?resource_id=${p.id}&limit=100`)).data as { action: string }[];
    expect(events.map((e) => e.action)).to.include.members(['create', 'archive', 'restore']);
  });
});
