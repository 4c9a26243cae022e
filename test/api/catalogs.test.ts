import { expect } from 'chai';
import { create, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// The org catalogs: allergy, disease, medication, patient alert and patient tag definitions.

describe('Org catalogs (definitions)', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  const patch = (path: string, body: Row, key = f.key) => f.s.api('PATCH', `${f.base}/${path}`, { key, body });

  it('creates each catalog entry with the documented defaults', async () => {
    const alert = await create(f, 'patient-alert-definitions', { name: 'Latex allergy' });
    expect(alert).to.include({ name: 'Latex allergy', default_is_urgent: false, default_scope: 'patient', item_order: 1, version: 1, deleted_at: null });
    expect(alert.category).to.equal(null);
    const tag = await create(f, 'patient-tag-definitions', { name: 'VIP', color: '#FFD700', category: 'Marketing' });
    expect(tag).to.include({ name: 'VIP', color: '#FFD700', category: 'Marketing', item_order: 1, version: 1 });
    const allergy = await create(f, 'allergy-definitions', { name: 'Penicillin', snomed_code: '764146007', rx_cui: '70618' });
    expect(allergy).to.include({ name: 'Penicillin', allergen_type: 'drug', snomed_code: '764146007', rx_cui: '70618' });
    const disease = await create(f, 'disease-definitions', { name: 'Essential hypertension', icd10_code: 'I10', snomed_code: '59621000' });
    expect(disease).to.include({ name: 'Essential hypertension', icd10_code: 'I10' });
    const med = await create(f, 'medication-definitions', { name: 'Amoxicillin 500 mg capsule', generic_name: 'amoxicillin', strength: '500 mg', dosage_form: 'capsule', route: 'oral', rx_cui: '308191' });
    expect(med).to.include({ name: 'Amoxicillin 500 mg capsule', route: 'oral', rx_cui: '308191' });
  });

  it('validates names, enums and codes', async () => {
    const noName = await f.s.api('POST', `${f.base}/patient-tag-definitions`, { key: f.key, body: { category: 'x' } });
    expectError(noName, 400, 'validation_error');
    expect(detailPaths(noName)).to.deep.equal(['/body/name']);
    const badScope = await f.s.api('POST', `${f.base}/patient-alert-definitions`, { key: f.key, body: { name: 'A', default_scope: 'household' } });
    expectError(badScope, 400, 'validation_error');
    expect(detailPaths(badScope)).to.deep.equal(['/body/default_scope']);
    const badIcd = await f.s.api('POST', `${f.base}/disease-definitions`, { key: f.key, body: { name: 'Bad code', icd10_code: 'hypertension' } });
    expect(detailPaths(badIcd)).to.deep.equal(['/body/icd10_code']);
    const badType = await f.s.api('POST', `${f.base}/allergy-definitions`, { key: f.key, body: { name: 'Bad type', allergen_type: 'pollen' } });
    expect(detailPaths(badType)).to.deep.equal(['/body/allergen_type']);
  });

  it('keeps allergy, disease and medication names unique within the organization only', async () => {
    await create(f, 'allergy-definitions', { name: 'Peanuts', allergen_type: 'food' });
    expectError(await f.s.api('POST', `${f.base}/allergy-definitions`, { key: f.key, body: { name: 'Peanuts' } }), 409, 'duplicate');
    await create(f, 'disease-definitions', { name: 'Asthma', icd10_code: 'J45.909' });
    expectError(await f.s.api('POST', `${f.base}/disease-definitions`, { key: f.key, body: { name: 'Asthma' } }), 409, 'duplicate');
    await create(f, 'medication-definitions', { name: 'Salbutamol 100 mcg inhaler' });
    expectError(await f.s.api('POST', `${f.base}/medication-definitions`, { key: f.key, body: { name: 'Salbutamol 100 mcg inhaler' } }), 409, 'duplicate');
    const org2 = await f.s.createOrg();
    const key2 = (await f.s.createKey({ orgs: [org2.slug], scopes: ['catalogs:write'], rateLimit: 100000 })).key;
    const res = await f.s.api('POST', `/api/v1/${org2.slug}/allergy-definitions`, { key: key2, body: { name: 'Peanuts' } });
    expect(res.status).to.equal(201);
  });

  it('lists by category, search and item order', async () => {
    const a = await create(f, 'patient-alert-definitions', { name: 'Requires interpreter', category: 'Communication', item_order: 3 });
    const b = await create(f, 'patient-alert-definitions', { name: 'Hearing impaired', category: 'Communication', item_order: 2 });
    await create(f, 'patient-alert-definitions', { name: 'Fall risk', category: 'Safety', default_is_urgent: true });
    const comm = await list(f, 'patient-alert-definitions?category=Communication');
    expect(ids(comm.data)).to.deep.equal([b.id, a.id]);
    expect(comm.total_count).to.equal(2);
    const found = await list(f, 'patient-alert-definitions?search=interp');
    expect(ids(found.data)).to.deep.equal([a.id]);
    const urgent = await list(f, 'patient-alert-definitions?default_is_urgent=true');
    expect(urgent.data.map((r: Row) => r.name)).to.deep.equal(['Fall risk']);
    const t = await create(f, 'patient-tag-definitions', { name: 'New patient special', category: 'Promotions' });
    expect(ids((await list(f, 'patient-tag-definitions?category=Promotions')).data)).to.deep.equal([t.id]);
    expect(ids((await list(f, 'disease-definitions?icd10_code=J45.909')).data)).to.have.length(1);
    expect((await list(f, 'disease-definitions?search=J45')).data.map((r: Row) => r.name)).to.deep.equal(['Asthma']);
    expect((await list(f, 'allergy-definitions?allergen_type=food')).data.map((r: Row) => r.name)).to.deep.equal(['Peanuts']);
  });

  it('requires base_version on update and refuses a stale one', async () => {
    const tag = await create(f, 'patient-tag-definitions', { name: 'Recall due' });
    const missing = await patch(`patient-tag-definitions/${tag.id}`, { color: 'red' });
    expectError(missing, 400, 'validation_error');
    expect(detailPaths(missing)).to.deep.equal(['/body/base_version']);
    const ok = await patch(`patient-tag-definitions/${tag.id}`, { base_version: 1, color: 'red', item_order: 5 });
    expect(ok.status).to.equal(200);
    expect(ok.body.data).to.include({ color: 'red', item_order: 5, version: 2 });
    expectError(await patch(`patient-tag-definitions/${tag.id}`, { base_version: 1, color: 'blue' }), 409, 'version_conflict');
    const med = await create(f, 'medication-definitions', { name: 'Metformin 500 mg tablet' });
    expectError(await patch(`medication-definitions/${med.id}`, { route: 'oral' }), 400, 'validation_error');
  });

  it('archives and restores an entry; archived entries leave the list', async () => {
    const def = await create(f, 'disease-definitions', { name: 'Migraine', icd10_code: 'G43.909' });
    const archived = await f.s.api('POST', `${f.base}/disease-definitions/${def.id}/archive`, { key: f.key });
    expect(archived.status).to.equal(200);
    expect(archived.body.data.deleted_at).to.be.a('string');
    expect(ids((await list(f, 'disease-definitions')).data)).to.not.include(def.id);
    expect(ids((await list(f, 'disease-definitions?include_archived=true')).data)).to.include(def.id);
    const restored = await f.s.api('POST', `${f.base}/disease-definitions/${def.id}/restore`, { key: f.key });
    expect(restored.status).to.equal(200);
    expect(restored.body.data.deleted_at).to.equal(null);
    expect(ids((await list(f, 'disease-definitions')).data)).to.include(def.id);
  });

  it('is served under the catalogs scope: read for GET, write for changes', async () => {
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['catalogs:read'], rateLimit: 100000 })).key;
    const patientsOnly = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:write'], rateLimit: 100000 })).key;
    for (const path of ['allergy-definitions', 'disease-definitions', 'medication-definitions', 'patient-alert-definitions', 'patient-tag-definitions']) {
      expect((await f.s.api('GET', `${f.base}/${path}`, { key: reader })).status, path).to.equal(200);
      expectError(await f.s.api('POST', `${f.base}/${path}`, { key: reader, body: { name: `Read-only ${path}` } }), 403, 'forbidden');
      expectError(await f.s.api('GET', `${f.base}/${path}`, { key: patientsOnly }), 403, 'forbidden');
    }
  });

  it("does not show or change another organization's entries", async () => {
    const mine = await create(f, 'allergy-definitions', { name: 'Shellfish', allergen_type: 'food' });
    const org2 = await f.s.createOrg();
    const both = (await f.s.createKey({ orgs: [f.org.slug, org2.slug], scopes: ['catalogs:write'], rateLimit: 100000 })).key;
    const base2 = `/api/v1/${org2.slug}`;
    expectError(await f.s.api('GET', `${base2}/allergy-definitions/${mine.id}`, { key: both }), 404, 'not_found');
    expectError(await f.s.api('PATCH', `${base2}/allergy-definitions/${mine.id}`, { key: both, body: { base_version: 1, name: 'x' } }), 404, 'not_found');
    expect(ids((await f.s.api('GET', `${base2}/allergy-definitions`, { key: both })).body.data)).to.not.include(mine.id);
  });
});
