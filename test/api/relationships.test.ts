import { expect } from 'chai';
import { MISSING_ID, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Relationships, guardianship and the guarantor family (seed 001 §1.9, §2.11, §3.12).

describe('Chart sub-resource: relationships, dependents, guardians, family', () => {
  let f: Fixture;
  let mom: Row;
  let kid: Row;
  let kid2: Row;
  let stranger: Row;
  let loner: Row;

  before(async () => {
    f = await setupApi();
    mom = await createPatient(f, { first_name: 'Mara', last_name: 'Fam' });
    kid = await createPatient(f, { first_name: 'Kai', last_name: 'Fam', responsible_party_id: mom.id });
    kid2 = await createPatient(f, { first_name: 'Kim', last_name: 'Fam', responsible_party_id: mom.id });
    stranger = await createPatient(f, { first_name: 'Sam', last_name: 'Else' });
    loner = await createPatient(f, { first_name: 'Lou', last_name: 'Alone' });
  });

  after(async () => {
    await f.s.close();
  });

  const path = (p: Row) => `${f.base}/patients/${p.id}/relationships`;
  const post = (p: Row, body: Row) => f.s.api('POST', path(p), { key: f.key, body });
  const get = (url: string) => f.s.api('GET', url, { key: f.key });

  it('creates a relationship from the patient in the URL, is_guardian false by default', async () => {
    const res = await post(mom, { relationship_type: 'parent', to_patient_id: kid.id, note: 'mother' });
    expect(res.status).to.equal(201);
    expect(res.body.data).to.include({ from_patient_id: mom.id, to_patient_id: kid.id, relationship_type: 'parent', is_guardian: false, note: 'mother', version: 1 });
    expect(res.body.data.deleted_at).to.equal(null);
  });

  it('refuses a type outside the 15 of the seed, a missing type or target, and the source in the body', async () => {
    const bad = await post(mom, { relationship_type: 'cousin', to_patient_id: kid.id });
    expectError(bad, 400, 'validation_error');
    expect(detailPaths(bad)).to.deep.equal(['/body/relationship_type']);
    const missing = await post(mom, {});
    expect(detailPaths(missing).sort()).to.deep.equal(['/body/relationship_type', '/body/to_patient_id']);
    expectError(await post(mom, { relationship_type: 'parent', to_patient_id: kid.id, from_patient_id: stranger.id }), 400, 'validation_error');
  });

  it('refuses a relationship of a patient with itself (422 self_relationship)', async () => {
    const res = await post(kid, { relationship_type: 'sibling', to_patient_id: kid.id });
    expectError(res, 422, 'self_relationship');
    expect(detailPaths(res)).to.deep.equal(['/body/to_patient_id']);
  });

  it('refuses a target that does not exist in the organization, or is archived; 404 for an unknown source', async () => {
    const res = await post(mom, { relationship_type: 'parent', to_patient_id: MISSING_ID });
    expectError(res, 422, 'unprocessable');
    expect(detailPaths(res)).to.deep.equal(['/body/to_patient_id']);
    const gone = await createPatient(f, { first_name: 'Gone', last_name: 'Fam' });
    expect((await f.s.api('POST', `${f.base}/patients/${gone.id}/archive`, { key: f.key })).status).to.equal(200);
    expectError(await post(mom, { relationship_type: 'parent', to_patient_id: gone.id }), 422, 'unprocessable');
    expectError(await f.s.api('POST', `${f.base}/patients/${MISSING_ID}/relationships`, { key: f.key, body: { relationship_type: 'parent', to_patient_id: kid.id } }), 404, 'not_found');
    expectError(await get(`${f.base}/patients/${MISSING_ID}/relationships`), 404, 'not_found');
  });

  it('lists only the relationships the patient is the source of, and embeds both patients with ?include', async () => {
    const g = await post(mom, { relationship_type: 'guardian', to_patient_id: kid2.id, is_guardian: true });
    expect(g.status).to.equal(201);
    const back = await post(kid, { relationship_type: 'child', to_patient_id: mom.id });
    expect(back.status).to.equal(201);
    const page = await list(f, `patients/${mom.id}/relationships?include=from_patient,to_patient&sort=created_at`);
    expect(page.data.map((r: Row) => r.to_patient_id)).to.deep.equal([kid.id, kid2.id]);
    expect(page.data[0].from_patient).to.include({ id: mom.id, first_name: 'Mara', last_name: 'Fam' });
    expect(page.data[0].to_patient).to.include({ id: kid.id, first_name: 'Kai' });
    expect(ids((await list(f, `patients/${kid.id}/relationships`)).data)).to.deep.equal([back.body.data.id]);
    expect((await list(f, `patients/${mom.id}/relationships?is_guardian=true`)).data.map((r: Row) => r.to_patient_id)).to.deep.equal([kid2.id]);
  });

  it('updates type, is_guardian and note with base_version; to_patient is immutable; a stale version is 409', async () => {
    const rel = (await post(stranger, { relationship_type: 'other_family', to_patient_id: loner.id })).body.data;
    const url = `${path(stranger)}/${rel.id}`;
    expectError(await f.s.api('PATCH', url, { key: f.key, body: { note: 'x' } }), 400, 'validation_error');
    const ok = await f.s.api('PATCH', url, { key: f.key, body: { base_version: 1, relationship_type: 'caregiver', is_guardian: true, note: 'cares for' } });
    expect(ok.status).to.equal(200);
    expect(ok.body.data).to.include({ relationship_type: 'caregiver', is_guardian: true, note: 'cares for', version: 2 });
    expectError(await f.s.api('PATCH', url, { key: f.key, body: { base_version: 1, note: 'late' } }), 409, 'version_conflict');
    const moved = await f.s.api('PATCH', url, { key: f.key, body: { base_version: 2, to_patient_id: mom.id } });
    expectError(moved, 400, 'validation_error');
    expectError(await f.s.api('PATCH', url, { key: f.key, body: { base_version: 2, relationship_type: 'frenemy' } }), 400, 'validation_error');
    // Through another patient's URL the relationship does not exist.
    expectError(await f.s.api('PATCH', `${path(mom)}/${rel.id}`, { key: f.key, body: { base_version: 2, note: 'y' } }), 404, 'not_found');
    expectError(await f.s.api('PATCH', `${path(stranger)}/${MISSING_ID}`, { key: f.key, body: { base_version: 2, note: 'y' } }), 404, 'not_found');
  });

  it('archives and restores a relationship; archived ones leave the list and the guardianship reads', async () => {
    const rel = (await post(loner, { relationship_type: 'caregiver', to_patient_id: stranger.id, is_guardian: true })).body.data;
    expect(ids((await get(`${f.base}/patients/${stranger.id}/guardians`)).body.data)).to.include(rel.id);
    const archived = await f.s.api('POST', `${path(loner)}/${rel.id}/archive`, { key: f.key });
    expect(archived.status).to.equal(200);
    expect(archived.body.data.deleted_at).to.be.a('string');
    expect(ids((await list(f, `patients/${loner.id}/relationships`)).data)).to.not.include(rel.id);
    expect(ids((await get(`${f.base}/patients/${stranger.id}/guardians`)).body.data)).to.not.include(rel.id);
    expectError(await f.s.api('POST', `${path(mom)}/${rel.id}/archive`, { key: f.key }), 404, 'not_found');
    expect((await f.s.api('POST', `${path(loner)}/${rel.id}/restore`, { key: f.key })).status).to.equal(200);
    expect(ids((await list(f, `patients/${loner.id}/relationships`)).data)).to.include(rel.id);
  });

  it('GET …/dependents: relationships this patient is the guardian (source, is_guardian) of, with the dependent embedded', async () => {
    const res = await get(`${f.base}/patients/${mom.id}/dependents`);
    expect(res.status).to.equal(200);
    expect(res.body.data.map((r: Row) => r.to_patient_id)).to.deep.equal([kid2.id]);
    expect(res.body.data[0].to_patient).to.include({ id: kid2.id, first_name: 'Kim' });
    expect((await get(`${f.base}/patients/${kid.id}/dependents`)).body.data).to.deep.equal([]);
  });

  it('GET …/guardians: relationships where another patient is this one\'s guardian, with the guardian embedded', async () => {
    const res = await get(`${f.base}/patients/${kid2.id}/guardians`);
    expect(res.status).to.equal(200);
    expect(res.body.data).to.have.length(1);
    expect(res.body.data.map((r: Row) => r.from_patient_id)).to.deep.equal([mom.id]);
    expect(res.body.data[0].from_patient).to.include({ id: mom.id, first_name: 'Mara' });
    // kid is mom's child by relationship, but not under guardianship.
    expect((await get(`${f.base}/patients/${kid.id}/guardians`)).body.data).to.deep.equal([]);
  });

  it('GET …/family: the guarantor and every patient it answers for, from any member; a patient alone is a family of one', async () => {
    const family = [mom.id, kid.id, kid2.id].sort();
    for (const p of [mom, kid, kid2]) {
      const res = await get(`${f.base}/patients/${p.id}/family`);
      expect(res.status).to.equal(200);
      expect(ids(res.body.data).sort()).to.deep.equal(family);
    }
    expect(ids((await get(`${f.base}/patients/${loner.id}/family`)).body.data)).to.deep.equal([loner.id]);
  });

  it('the three reads are 404 for an unknown or archived patient, 400 for a bad id or an unknown parameter, and audited as patient reads', async () => {
    const gone = await createPatient(f, { first_name: 'Arch', last_name: 'Ived' });
    await f.s.api('POST', `${f.base}/patients/${gone.id}/archive`, { key: f.key });
    for (const read of ['dependents', 'guardians', 'family']) {
      expectError(await get(`${f.base}/patients/${MISSING_ID}/${read}`), 404, 'not_found');
      expectError(await get(`${f.base}/patients/${gone.id}/${read}`), 404, 'not_found');
      expectError(await get(`${f.base}/patients/not-a-uuid/${read}`), 400, 'invalid_id');
      expectError(await get(`${f.base}/patients/${mom.id}/${read}?limit=5`), 400, 'validation_error');
    }
    const reads = { family: ['patient', kid2], dependents: ['patient-relationship', mom], guardians: ['patient-relationship', kid2] } as const;
    for (const [read, [resource, who]] of Object.entries(reads)) {
      const res = await get(`${f.base}/patients/${who.id}/${read}`);
      expect(res.body.data, read).to.not.be.empty;
      await f.s.rt.audit.flush();
      const audit = await list(f, `audit-events?request_id=${res.headers.get('x-request-id')}`);
      expect(audit.data.map((e: Row) => [e.resource, e.action]), read).to.deep.include([resource, 'list']);
    }
  });

  it('needs patients:read for the reads and patients:write for changes', async () => {
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'], rateLimit: 1_000_000 })).key;
    expect((await f.s.api('GET', `${f.base}/patients/${mom.id}/family`, { key: reader })).status).to.equal(200);
    expect((await f.s.api('GET', `${f.base}/patients/${mom.id}/dependents`, { key: reader })).status).to.equal(200);
    expectError(await f.s.api('POST', path(mom), { key: reader, body: { relationship_type: 'spouse', to_patient_id: stranger.id } }), 403, 'forbidden');
    const none = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['tasks:read'], rateLimit: 1_000_000 })).key;
    expectError(await f.s.api('GET', `${f.base}/patients/${mom.id}/guardians`, { key: none }), 403, 'forbidden');
  });
});
