import { expect } from 'chai';
import { MISSING_ID, create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Patient tags (seed 001 §1.1 `tag_definition_uuid`, §1.14, §3.15): assignment nested under the
// patient, unassignment by DELETE or archive, and the patient list's `?tag_definition_id=` filter.

describe('Chart sub-resource: patient tags', () => {
  let f: Fixture;
  let vip: Row;
  let newcomer: Row;
  let retired: Row;
  const patients: Row[] = [];

  before(async () => {
    f = await setupApi();
    vip = await create(f, 'patient-tag-definitions', { name: 'VIP' });
    newcomer = await create(f, 'patient-tag-definitions', { name: 'New patient special' });
    retired = await create(f, 'patient-tag-definitions', { name: 'Retired tag' });
    expect((await f.s.api('POST', `${f.base}/patient-tag-definitions/${retired.id}/archive`, { key: f.key })).status).to.equal(200);
    for (const [i, last] of ['Avery', 'Baker', 'Chen', 'Diaz', 'Evans', 'Fox'].entries()) {
      patients.push(await createPatient(f, { first_name: `P${i}`, last_name: last }));
    }
  });

  after(async () => {
    await f.s.close();
  });

  const path = (p: Row) => `patients/${p.id}/tags`;
  const assign = (p: Row, tag: Row | string, key = f.key) =>
    f.s.api('POST', `${f.base}/${path(p)}`, { key, body: { tag_definition_id: typeof tag === 'string' ? tag : tag.id } });

  it('assigns a tag: 201 with the patient from the URL, the tag and who assigned it', async () => {
    const res = await assign(patients[0], vip);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body.data).to.include({ patient_id: patients[0].id, tag_definition_id: vip.id, version: 1, deleted_at: null });
    expect(res.body.data.created_by).to.be.a('string').and.not.empty;
    expect(res.headers.get('location')).to.equal(`${f.base}/${path(patients[0])}/${res.body.data.id}`);
  });

  it('refuses an unknown, archived or missing tag definition, and a patient_id in the body', async () => {
    const unknown = await assign(patients[1], MISSING_ID);
    expectError(unknown, 422, 'unprocessable');
    expect(detailPaths(unknown)).to.deep.equal(['/body/tag_definition_id']);
    const archived = await assign(patients[1], retired);
    expectError(archived, 422, 'unprocessable');
    expect(detailPaths(archived)).to.deep.equal(['/body/tag_definition_id']);
    const missing = await f.s.api('POST', `${f.base}/${path(patients[1])}`, { key: f.key, body: {} });
    expectError(missing, 400, 'validation_error');
    expect(detailPaths(missing)).to.deep.equal(['/body/tag_definition_id']);
    const notUuid = await assign(patients[1], 'vip');
    expectError(notUuid, 400, 'validation_error');
    const withPatient = await f.s.api('POST', `${f.base}/${path(patients[1])}`, { key: f.key, body: { tag_definition_id: vip.id, patient_id: patients[2].id } });
    expectError(withPatient, 400, 'validation_error');
  });

  it('answers 404 for a missing patient and 400 invalid_id for a malformed one', async () => {
    expectError(await f.s.api('POST', `${f.base}/patients/${MISSING_ID}/tags`, { key: f.key, body: { tag_definition_id: vip.id } }), 404, 'not_found');
    expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/tags`, { key: f.key }), 404, 'not_found');
    expectError(await f.s.api('GET', `${f.base}/patients/nope/tags`, { key: f.key }), 400, 'invalid_id');
  });

  it('refuses the same tag twice on a patient (409 duplicate) but allows it on another patient', async () => {
    const again = await assign(patients[0], vip);
    expectError(again, 409, 'duplicate');
    expect(detailPaths(again)).to.deep.equal(['/body/tag_definition_id']);
    expect((await assign(patients[1], vip)).status).to.equal(201);
    expect((await assign(patients[0], newcomer)).status).to.equal(201);
  });

  it('lists the tags of the patient in the URL only, with the tag definition embedded on request', async () => {
    const page = await list(f, `${path(patients[0])}?include=tag_definition`);
    expect(page.total_count).to.equal(2);
    expect(page.data.map((t: Row) => t.tag_definition.name).sort()).to.deep.equal(['New patient special', 'VIP']);
    expect((await list(f, path(patients[2]))).data).to.deep.equal([]);
    expect((await list(f, `${path(patients[0])}?tag_definition_id=${vip.id}`)).data).to.have.length(1);
  });

  it('unassigns with DELETE (a soft delete) and allows the tag again afterwards; restoring the old assignment then is a 409', async () => {
    const [first] = (await list(f, `${path(patients[1])}?tag_definition_id=${vip.id}`)).data;
    const del = await f.s.api('DELETE', `${f.base}/${path(patients[1])}/${first.id}`, { key: f.key });
    expect(del.status).to.equal(200);
    expect(del.body.data.deleted_at).to.be.a('string');
    expect((await list(f, path(patients[1]))).data).to.deep.equal([]);
    expect((await list(f, `${path(patients[1])}?include_archived=true`)).data).to.have.length(1);
    const again = await assign(patients[1], vip);
    expect(again.status).to.equal(201);
    const restore = await f.s.api('POST', `${f.base}/${path(patients[1])}/${first.id}/restore`, { key: f.key });
    expectError(restore, 409, 'duplicate');
    expect(detailPaths(restore)).to.deep.equal(['/body/tag_definition_id']);
    // Unassigning with POST …/archive is the same soft delete.
    const archive = await f.s.api('POST', `${f.base}/${path(patients[1])}/${again.body.data.id}/archive`, { key: f.key });
    expect(archive.status).to.equal(200);
    expect((await f.s.api('POST', `${f.base}/${path(patients[1])}/${first.id}/restore`, { key: f.key })).status).to.equal(200);
  });

  it('does not let a PATCH move an assignment to another tag', async () => {
    const [tag] = (await list(f, `${path(patients[0])}?tag_definition_id=${vip.id}`)).data;
    const res = await f.s.api('PATCH', `${f.base}/${path(patients[0])}/${tag.id}`, { key: f.key, body: { tag_definition_id: newcomer.id } });
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/body/tag_definition_id']);
  });

  it("answers another patient's assignment as not found", async () => {
    const [tag] = (await list(f, path(patients[0]))).data;
    expectError(await f.s.api('GET', `${f.base}/${path(patients[2])}/${tag.id}`, { key: f.key }), 404, 'not_found');
    expectError(await f.s.api('DELETE', `${f.base}/${path(patients[2])}/${tag.id}`, { key: f.key }), 404, 'not_found');
  });

  describe('patient list ?tag_definition_id=', () => {
    let dessert: Row;

    before(async () => {
      dessert = await create(f, 'patient-tag-definitions', { name: 'Dessert club' });
      // Tagged: Baker, Diaz, Evans, Fox (by last name); Chen's assignment is unassigned again.
      for (const i of [1, 3, 4, 5]) expect((await assign(patients[i], dessert)).status).to.equal(201);
      const chen = await assign(patients[2], dessert);
      expect((await f.s.api('DELETE', `${f.base}/${path(patients[2])}/${chen.body.data.id}`, { key: f.key })).status).to.equal(200);
    });

    it('lists the patients with the tag assigned, with their total', async () => {
      const page = await list(f, `patients?tag_definition_id=${dessert.id}`);
      expect(ids(page.data)).to.deep.equal([1, 3, 4, 5].map((i) => patients[i].id));
      expect(page.total_count).to.equal(4);
      const vips = await list(f, `patients?tag_definition_id=${vip.id}`);
      expect(ids(vips.data)).to.deep.equal([patients[0].id, patients[1].id]);
    });

    it('combines with other filters, search and sort', async () => {
      const page = await list(f, `patients?tag_definition_id=${dessert.id}&last_name[in]=Baker,Fox,Avery&sort=-last_name`);
      expect(ids(page.data)).to.deep.equal([patients[5].id, patients[1].id]);
      expect(page.total_count).to.equal(2);
      expect(ids((await list(f, `patients?tag_definition_id=${dessert.id}&search=diaz`)).data)).to.deep.equal([patients[3].id]);
    });

    it('pages by offset and by cursor over the tagged patients only', async () => {
      const first = await list(f, `patients?tag_definition_id=${dessert.id}&limit=3`);
      expect(ids(first.data)).to.deep.equal([1, 3, 4].map((i) => patients[i].id));
      expect(first.page_info.has_next_page).to.equal(true);
      const next = await list(f, `patients?tag_definition_id=${dessert.id}&limit=3&after=${encodeURIComponent(first.page_info.end_cursor)}&count=true`);
      expect(ids(next.data)).to.deep.equal([patients[5].id]);
      expect(next.page_info.has_next_page).to.equal(false);
      expect(next.total_count).to.equal(4);
      const second = await list(f, `patients?tag_definition_id=${dessert.id}&limit=2&offset=2`);
      expect(ids(second.data)).to.deep.equal([4, 5].map((i) => patients[i].id));
      expect(second.total_count).to.equal(4);
    });

    it('follows assignments at once: the cached list and total change when a tag is assigned or unassigned', async () => {
      const before = await list(f, `patients?tag_definition_id=${dessert.id}`);
      expect(before.total_count).to.equal(4);
      const added = await assign(patients[0], dessert);
      expect(added.status).to.equal(201);
      const after = await list(f, `patients?tag_definition_id=${dessert.id}`);
      expect(after.total_count).to.equal(5);
      expect(ids(after.data)[0]).to.equal(patients[0].id);
      expect((await f.s.api('DELETE', `${f.base}/${path(patients[0])}/${added.body.data.id}`, { key: f.key })).status).to.equal(200);
      const again = await list(f, `patients?tag_definition_id=${dessert.id}`);
      expect(again.total_count).to.equal(4);
      expect(ids(again.data)).to.not.include(patients[0].id);
    });

    it('leaves out archived patients unless include_archived=true', async () => {
      const fox = patients[5];
      expect((await f.s.api('POST', `${f.base}/patients/${fox.id}/archive`, { key: f.key })).status).to.equal(200);
      expect(ids((await list(f, `patients?tag_definition_id=${dessert.id}`)).data)).to.not.include(fox.id);
      expect(ids((await list(f, `patients?tag_definition_id=${dessert.id}&include_archived=true`)).data)).to.include(fox.id);
      expect((await f.s.api('POST', `${f.base}/patients/${fox.id}/restore`, { key: f.key })).status).to.equal(200);
    });

    it('answers 404 not_found naming the parameter for a tag definition that is missing, archived or of another organization', async () => {
      const org2 = await f.s.createOrg();
      const key2 = (await f.s.createKey({ orgs: [org2.slug], scopes: ['*'], rateLimit: 100000 })).key;
      const foreign = await f.s.api('POST', `/api/v1/${org2.slug}/patient-tag-definitions`, { key: key2, body: { name: 'Elsewhere' } });
      expect(foreign.status).to.equal(201);
      for (const id of [MISSING_ID, retired.id, foreign.body.data.id]) {
        const res = await f.s.api('GET', `${f.base}/patients?tag_definition_id=${id}`, { key: f.key });
        expectError(res, 404, 'not_found');
        expect(detailPaths(res)).to.deep.equal(['/query/tag_definition_id']);
        expect(res.body.message).to.equal('Patient tag definition not found');
      }
    });

    it('refuses a malformed id (400) and a repeated parameter', async () => {
      const bad = await f.s.api('GET', `${f.base}/patients?tag_definition_id=vip`, { key: f.key });
      expectError(bad, 400, 'validation_error');
      expect(detailPaths(bad)).to.deep.equal(['/query/tag_definition_id']);
      expectError(await f.s.api('GET', `${f.base}/patients?tag_definition_id=${vip.id}&tag_definition_id=${dessert.id}`, { key: f.key }), 400, 'validation_error');
    });

    it('is documented as a query parameter of the patient list', async () => {
      const doc = (await f.s.api('GET', '/api/openapi.json', { key: f.key })).body;
      const listOp = Object.entries(doc.paths as Record<string, any>).find(([p]) => p.endsWith('/patients'))![1].get;
      const param = listOp.parameters.find((p: Row) => p.name === 'tag_definition_id');
      expect(param).to.include({ in: 'query', required: false });
      expect(param.schema).to.include({ type: 'string', format: 'uuid' });
      expect(param.description).to.match(/tag/);
    });
  });
});
