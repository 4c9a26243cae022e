import { expect } from 'chai';
import { MISSING_ID, create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// A patient's allergies, diseases/problems and medications, nested under the patient and
// pointing at the organization's catalogs.

describe('Chart sub-resources: allergies, diseases, medications', () => {
  let f: Fixture;
  let patient: Row;
  let otherPatient: Row;
  let penicillin: Row;
  let peanuts: Row;
  let hypertension: Row;
  let amoxicillin: Row;
  let provider: Row;

  before(async () => {
    f = await setupApi();
    patient = await createPatient(f, { first_name: 'Ada', last_name: 'Chart' });
    otherPatient = await createPatient(f, { first_name: 'Bob', last_name: 'Chart' });
    penicillin = await create(f, 'allergy-definitions', { name: 'Penicillin', rx_cui: '70618' });
    peanuts = await create(f, 'allergy-definitions', { name: 'Peanuts', allergen_type: 'food' });
    hypertension = await create(f, 'disease-definitions', { name: 'Essential hypertension', icd10_code: 'I10' });
    amoxicillin = await create(f, 'medication-definitions', { name: 'Amoxicillin 500 mg capsule', route: 'oral' });
    provider = await create(f, 'providers', { first_name: 'Grace', last_name: 'Hopper', title: 'MD' });
  });

  after(async () => {
    await f.s.close();
  });

  const under = (p: Row, sub: string) => `patients/${p.id}/${sub}`;
  const post = (path: string, body: Row, key = f.key) => f.s.api('POST', `${f.base}/${path}`, { key, body });
  const patch = (path: string, body: Row, key = f.key) => f.s.api('PATCH', `${f.base}/${path}`, { key, body });

  /** A catalog entry of a second organization, reachable by the same key. */
  async function foreignEntry(path: string, body: Row): Promise<string> {
    const org2 = await f.s.createOrg();
    const key2 = (await f.s.createKey({ orgs: [org2.slug], scopes: ['*'], rateLimit: 100000 })).key;
    const res = await f.s.api('POST', `/api/v1/${org2.slug}/${path}`, { key: key2, body });
    expect(res.status).to.equal(201);
    return res.body.data.id;
  }

  async function archived(path: string, body: Row): Promise<string> {
    const entry = await create(f, path, body);
    expect((await f.s.api('POST', `${f.base}/${path}/${entry.id}/archive`, { key: f.key })).status).to.equal(200);
    return entry.id;
  }

  describe('allergies', () => {
    it('records an allergy with status_is_active true by default, the patient taken from the URL', async () => {
      const res = await post(under(patient, 'allergies'), { allergy_definition_id: penicillin.id, reaction: 'Hives', severity: 'moderate', date_adverse_reaction: '2019-06-01' });
      expect(res.status).to.equal(201);
      expect(res.body.data).to.include({ patient_id: patient.id, allergy_definition_id: penicillin.id, status_is_active: true, reaction: 'Hives', severity: 'moderate', date_adverse_reaction: '2019-06-01', version: 1, deleted_at: null });
      // Nothing to warn about (test/api/interaction-warnings.test.ts has the rule).
      expect(res.body.data.interaction_warnings).to.deep.equal([]);
      expect(res.headers.get('location')).to.equal(`${f.base}/${under(patient, 'allergies')}/${res.body.data.id}`);
      const got = await f.s.api('GET', `${f.base}/${under(patient, 'allergies')}/${res.body.data.id}?include=allergy_definition,patient`, { key: f.key });
      expect(got.body.data.allergy_definition).to.include({ id: penicillin.id, name: 'Penicillin' });
      expect(got.body.data.patient).to.include({ id: patient.id, last_name: 'Chart' });
    });

    it('requires the allergy definition and takes the patient only from the URL', async () => {
      const missing = await post(under(patient, 'allergies'), { reaction: 'Rash' });
      expectError(missing, 400, 'validation_error');
      expect(detailPaths(missing)).to.deep.equal(['/body/allergy_definition_id']);
      const smuggled = await post(under(patient, 'allergies'), { allergy_definition_id: penicillin.id, patient_id: otherPatient.id });
      expectError(smuggled, 400, 'validation_error');
      expect(detailPaths(smuggled)).to.deep.equal(['/body/patient_id']);
    });

    it('filters by status_is_active and lists only the patient in the URL', async () => {
      const inactive = await create(f, under(patient, 'allergies'), { allergy_definition_id: peanuts.id, status_is_active: false });
      const elsewhere = await create(f, under(otherPatient, 'allergies'), { allergy_definition_id: peanuts.id });
      const active = await list(f, `${under(patient, 'allergies')}?status_is_active=true`);
      expect(active.data.every((r: Row) => r.status_is_active === true && r.patient_id === patient.id)).to.equal(true);
      expect(ids(active.data)).to.not.include(inactive.id);
      const off = await list(f, `${under(patient, 'allergies')}?status_is_active=false`);
      expect(ids(off.data)).to.deep.equal([inactive.id]);
      const all = await list(f, under(patient, 'allergies'));
      expect(ids(all.data)).to.include(inactive.id).and.not.include(elsewhere.id);
      expect(all.total_count).to.equal(active.total_count + 1);
      expect(ids((await list(f, `${under(patient, 'allergies')}?allergy_definition_id=${peanuts.id}`)).data)).to.deep.equal([inactive.id]);
      expectError(await f.s.api('GET', `${f.base}/${under(otherPatient, 'allergies')}/${inactive.id}`, { key: f.key }), 404, 'not_found');
    });

    it('requires base_version on update, refuses a stale one, and can switch the allergen', async () => {
      const a = await create(f, under(patient, 'allergies'), { allergy_definition_id: penicillin.id });
      const path = `${under(patient, 'allergies')}/${a.id}`;
      const without = await patch(path, { status_is_active: false });
      expectError(without, 400, 'validation_error');
      expect(detailPaths(without)).to.deep.equal(['/body/base_version']);
      const ok = await patch(path, { base_version: 1, status_is_active: false, allergy_definition_id: peanuts.id, reaction: '' });
      expect(ok.status).to.equal(200);
      expect(ok.body.data).to.include({ status_is_active: false, allergy_definition_id: peanuts.id, reaction: null, version: 2 });
      expectError(await patch(path, { base_version: 1, severity: 'mild' }), 409, 'version_conflict');
      const cleared = await patch(path, { base_version: 2, allergy_definition_id: null });
      expectError(cleared, 400, 'validation_error');
      expect(detailPaths(cleared)).to.deep.equal(['/body/allergy_definition_id']);
    });

    it('archives with POST …/archive and restores', async () => {
      const a = await create(f, under(patient, 'allergies'), { allergy_definition_id: penicillin.id });
      const path = `${f.base}/${under(patient, 'allergies')}/${a.id}`;
      const res = await f.s.api('POST', `${path}/archive`, { key: f.key });
      expect(res.status).to.equal(200);
      expect(res.body.data.deleted_at).to.be.a('string');
      expect(ids((await list(f, under(patient, 'allergies'))).data)).to.not.include(a.id);
      expect(ids((await list(f, `${under(patient, 'allergies')}?include_archived=true`)).data)).to.include(a.id);
      expectError(await f.s.api('GET', path, { key: f.key }), 404, 'not_found');
      expect((await f.s.api('POST', `${path}/restore`, { key: f.key })).status).to.equal(200);
      expect((await f.s.api('GET', path, { key: f.key })).body.data.deleted_at).to.equal(null);
    });

    it('refuses an unknown, archived or foreign allergy definition with 422 naming the field', async () => {
      const gone = await archived('allergy-definitions', { name: 'Discontinued allergen' });
      const foreign = await foreignEntry('allergy-definitions', { name: 'Penicillin' });
      for (const ref of [MISSING_ID, gone, foreign]) {
        const res = await post(under(patient, 'allergies'), { allergy_definition_id: ref });
        expectError(res, 422, 'unprocessable');
        expect(detailPaths(res)).to.deep.equal(['/body/allergy_definition_id']);
      }
      const a = await create(f, under(patient, 'allergies'), { allergy_definition_id: penicillin.id });
      const upd = await patch(`${under(patient, 'allergies')}/${a.id}`, { base_version: 1, allergy_definition_id: gone });
      expectError(upd, 422, 'unprocessable');
      expect(detailPaths(upd)).to.deep.equal(['/body/allergy_definition_id']);
    });
  });

  describe('diseases / problems', () => {
    it('records a problem with function_status problem and problem_status active by default', async () => {
      const d = await create(f, under(patient, 'diseases'), { disease_definition_id: hypertension.id, date_start: '2020-03-01', patient_note: 'Home BP readings high' });
      expect(d).to.include({ patient_id: patient.id, disease_definition_id: hypertension.id, function_status: 'problem', problem_status: 'active', date_start: '2020-03-01', date_stop: null, version: 1 });
      const got = await f.s.api('GET', `${f.base}/${under(patient, 'diseases')}/${d.id}?include=disease_definition`, { key: f.key });
      expect(got.body.data.disease_definition).to.include({ name: 'Essential hypertension', icd10_code: 'I10' });
    });

    it('refuses values outside the problem_status and function_status sets, and a missing definition', async () => {
      const bad = await post(under(patient, 'diseases'), { disease_definition_id: hypertension.id, problem_status: 'cured', function_status: 'symptom' });
      expectError(bad, 400, 'validation_error');
      expect(detailPaths(bad).sort()).to.deep.equal(['/body/function_status', '/body/problem_status']);
      const none = await post(under(patient, 'diseases'), { problem_status: 'active' });
      expect(detailPaths(none)).to.deep.equal(['/body/disease_definition_id']);
    });

    it('moves a problem through its lifecycle with base_version and filters by problem_status', async () => {
      const d = await create(f, under(otherPatient, 'diseases'), { disease_definition_id: hypertension.id });
      const path = `${under(otherPatient, 'diseases')}/${d.id}`;
      expectError(await patch(path, { problem_status: 'resolved' }), 400, 'validation_error');
      const resolved = await patch(path, { base_version: 1, problem_status: 'resolved', date_stop: '2025-10-01' });
      expect(resolved.body.data).to.include({ problem_status: 'resolved', date_stop: '2025-10-01', version: 2 });
      const still = await create(f, under(otherPatient, 'diseases'), { disease_definition_id: hypertension.id, function_status: 'functional_problem' });
      expect(ids((await list(f, `${under(otherPatient, 'diseases')}?problem_status=resolved`)).data)).to.deep.equal([d.id]);
      expect(ids((await list(f, `${under(otherPatient, 'diseases')}?problem_status=active`)).data)).to.deep.equal([still.id]);
      expect(ids((await list(f, `${under(otherPatient, 'diseases')}?function_status=functional_problem`)).data)).to.deep.equal([still.id]);
      expectError(await f.s.api('GET', `${f.base}/${under(otherPatient, 'diseases')}?problem_status=cured`, { key: f.key }), 400, 'validation_error');
      expectError(await patch(path, { base_version: 1, problem_status: 'inactive' }), 409, 'version_conflict');
    });

    it('archives and restores a problem', async () => {
      const d = await create(f, under(patient, 'diseases'), { disease_definition_id: hypertension.id });
      const path = `${f.base}/${under(patient, 'diseases')}/${d.id}`;
      expect((await f.s.api('POST', `${path}/archive`, { key: f.key })).body.data.deleted_at).to.be.a('string');
      expect(ids((await list(f, under(patient, 'diseases'))).data)).to.not.include(d.id);
      expect((await f.s.api('POST', `${path}/restore`, { key: f.key })).body.data.deleted_at).to.equal(null);
    });

    it('refuses an unknown, archived or foreign disease definition with 422 naming the field', async () => {
      const gone = await archived('disease-definitions', { name: 'Retired condition' });
      const foreign = await foreignEntry('disease-definitions', { name: 'Essential hypertension' });
      for (const ref of [MISSING_ID, gone, foreign]) {
        const res = await post(under(patient, 'diseases'), { disease_definition_id: ref });
        expectError(res, 422, 'unprocessable');
        expect(detailPaths(res)).to.deep.equal(['/body/disease_definition_id']);
      }
    });
  });

  describe('medications', () => {
    it('records a medication with no field required by the schema: status active and is_cpoe false by default', async () => {
      const freeText = await create(f, under(patient, 'medications'), { med_descript: 'Vitamin D3 1000 IU', dosage: '1 tablet', frequency: 'daily' });
      expect(freeText).to.include({ patient_id: patient.id, med_descript: 'Vitamin D3 1000 IU', medication_definition_id: null, provider_id: null, status: 'active', is_cpoe: false, version: 1 });
      expect(freeText.interaction_warnings).to.deep.equal([]);
      const fromCatalog = await create(f, under(patient, 'medications'), { medication_definition_id: amoxicillin.id, provider_id: provider.id, is_cpoe: true, rx_cui: '308191', route: 'oral', date_start: '2026-01-10' });
      expect(fromCatalog).to.include({ medication_definition_id: amoxicillin.id, provider_id: provider.id, is_cpoe: true });
      const got = await f.s.api('GET', `${f.base}/${under(patient, 'medications')}/${fromCatalog.id}?include=medication_definition,provider`, { key: f.key });
      expect(got.body.data.medication_definition).to.include({ id: amoxicillin.id, name: 'Amoxicillin 500 mg capsule' });
      expect(got.body.data.provider).to.include({ id: provider.id, last_name: 'Hopper' });
    });

    it('refuses a medication named neither by a catalog entry nor by med_descript, on create and on update', async () => {
      for (const body of [{}, { dosage: '1 tablet' }, { med_descript: '  ' }]) {
        const res = await post(under(patient, 'medications'), body);
        expectError(res, 422, 'unprocessable');
        expect(detailPaths(res)).to.deep.equal(['/body/medication_definition_id', '/body/med_descript']);
      }
      const m = await create(f, under(patient, 'medications'), { med_descript: 'Iron 325 mg' });
      const path = `${under(patient, 'medications')}/${m.id}`;
      expectError(await patch(path, { base_version: 1, med_descript: '' }), 422, 'unprocessable');
      const swapped = await patch(path, { base_version: 1, med_descript: null, medication_definition_id: amoxicillin.id });
      expect(swapped.status).to.equal(200);
      expect(swapped.body.data).to.include({ med_descript: null, medication_definition_id: amoxicillin.id });
      expectError(await patch(path, { base_version: 2, medication_definition_id: null }), 422, 'unprocessable');
      expect((await f.s.api('POST', `${f.base}/${path}/archive`, { key: f.key })).status).to.equal(200);
    });

    it('changes status and discontinuation_reason with base_version; filters by status', async () => {
      const m = await create(f, under(otherPatient, 'medications'), { medication_definition_id: amoxicillin.id });
      const keep = await create(f, under(otherPatient, 'medications'), { med_descript: 'Ibuprofen 400 mg as needed' });
      const path = `${under(otherPatient, 'medications')}/${m.id}`;
      expectError(await patch(path, { status: 'discontinued' }), 400, 'validation_error');
      const stopped = await patch(path, { base_version: 1, status: 'discontinued', discontinuation_reason: 'Rash after 3 days', date_stop: '2026-01-13' });
      expect(stopped.status).to.equal(200);
      expect(stopped.body.data).to.include({ status: 'discontinued', discontinuation_reason: 'Rash after 3 days', version: 2 });
      expectError(await patch(path, { base_version: 2, status: 'paused' }), 400, 'validation_error');
      expect(ids((await list(f, `${under(otherPatient, 'medications')}?status=active`)).data)).to.deep.equal([keep.id]);
      expect(ids((await list(f, `${under(otherPatient, 'medications')}?status[ne]=active`)).data)).to.deep.equal([m.id]);
      expect(ids((await list(f, `${under(otherPatient, 'medications')}?medication_definition_id=${amoxicillin.id}`)).data)).to.deep.equal([m.id]);
      expectError(await patch(path, { base_version: 1, status: 'active' }), 409, 'version_conflict');
    });

    it('archives and restores a medication', async () => {
      const m = await create(f, under(patient, 'medications'), { med_descript: 'Short course' });
      const path = `${f.base}/${under(patient, 'medications')}/${m.id}`;
      expect((await f.s.api('DELETE', path, { key: f.key })).status).to.equal(200);
      expect(ids((await list(f, under(patient, 'medications'))).data)).to.not.include(m.id);
      expect((await f.s.api('POST', `${path}/restore`, { key: f.key })).status).to.equal(200);
      expect(ids((await list(f, under(patient, 'medications'))).data)).to.include(m.id);
    });

    it('refuses an unknown, archived or foreign medication definition or provider with 422 naming the field', async () => {
      const gone = await archived('medication-definitions', { name: 'Withdrawn product' });
      const foreign = await foreignEntry('medication-definitions', { name: 'Amoxicillin 500 mg capsule' });
      for (const ref of [MISSING_ID, gone, foreign]) {
        const res = await post(under(patient, 'medications'), { medication_definition_id: ref });
        expectError(res, 422, 'unprocessable');
        expect(detailPaths(res)).to.deep.equal(['/body/medication_definition_id']);
      }
      const foreignProvider = await foreignEntry('providers', { first_name: 'Other', last_name: 'Clinic' });
      const res = await post(under(patient, 'medications'), { med_descript: 'x', provider_id: foreignProvider });
      expectError(res, 422, 'unprocessable');
      expect(detailPaths(res)).to.deep.equal(['/body/provider_id']);
    });
  });

  describe('read audit', () => {
    it('records who read an allergy, a problem or a medication, as for the patient itself', async () => {
      const rows = [
        await create(f, under(patient, 'allergies'), { allergy_definition_id: peanuts.id }),
        await create(f, under(patient, 'diseases'), { disease_definition_id: hypertension.id }),
        await create(f, under(patient, 'medications'), { med_descript: 'Audited' }),
      ];
      const subs = ['allergies', 'diseases', 'medications'];
      const gets = [];
      for (const [i, row] of rows.entries()) gets.push(await f.s.api('GET', `${f.base}/${under(patient, subs[i])}/${row.id}`, { key: f.key }));
      await f.s.rt.audit.flush();
      for (const [i, row] of rows.entries()) {
        const res = await f.s.api('GET', `${f.base}/audit-events?resource_id=${row.id}&action=read`, { key: f.key });
        expect(res.body.data.map((e: Row) => e.request_id), subs[i]).to.deep.equal([gets[i].headers.get('x-request-id')]);
        expect(res.body.data[0].resource).to.equal(['patient-allergy', 'patient-disease', 'patient-medication'][i]);
      }
    });
  });

  describe('tenancy and scopes', () => {
    it('answers a missing patient or one of another organization with 404', async () => {
      for (const sub of ['allergies', 'diseases', 'medications']) {
        expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/${sub}`, { key: f.key }), 404, 'not_found');
      }
      expectError(await post(`patients/${MISSING_ID}/allergies`, { allergy_definition_id: penicillin.id }), 404, 'not_found');
      const org2 = await f.s.createOrg();
      const both = (await f.s.createKey({ orgs: [f.org.slug, org2.slug], scopes: ['*'], rateLimit: 100000 })).key;
      const base2 = `/api/v1/${org2.slug}`;
      expect((await f.s.api('GET', `${f.base}/${under(patient, 'allergies')}`, { key: both })).status).to.equal(200);
      for (const sub of ['allergies', 'diseases', 'medications']) {
        expectError(await f.s.api('GET', `${base2}/${under(patient, sub)}`, { key: both }), 404, 'not_found');
      }
      expectError(await f.s.api('POST', `${base2}/${under(patient, 'medications')}`, { key: both, body: { med_descript: 'x' } }), 404, 'not_found');
    });

    it('is served under the patients scope: read for GET, write for changes; catalogs alone do not reach it', async () => {
      const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'], rateLimit: 100000 })).key;
      const catalogs = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['catalogs:write'], rateLimit: 100000 })).key;
      const writer = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:write'], rateLimit: 100000 })).key;
      for (const sub of ['allergies', 'diseases', 'medications']) {
        expect((await f.s.api('GET', `${f.base}/${under(patient, sub)}`, { key: reader })).status, sub).to.equal(200);
        expectError(await f.s.api('POST', `${f.base}/${under(patient, sub)}`, { key: reader, body: { med_descript: 'x' } }), 403, 'forbidden');
        expectError(await f.s.api('GET', `${f.base}/${under(patient, sub)}`, { key: catalogs }), 403, 'forbidden');
      }
      // Linking to a catalog entry needs no catalogs scope.
      expect((await post(under(patient, 'allergies'), { allergy_definition_id: peanuts.id }, writer)).status).to.equal(201);
    });
  });
});
