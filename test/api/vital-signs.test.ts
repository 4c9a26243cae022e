import { expect } from 'chai';
import { MISSING_ID, create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// A patient's vital signs (seed 001 §1.6, §2.9, §3.19) and the patient's latest_vitals_date (§3.9).

describe('Chart sub-resource: vital signs', () => {
  let f: Fixture;
  let patient: Row;
  let otherPatient: Row;
  let provider: Row;

  before(async () => {
    f = await setupApi();
    patient = await createPatient(f, { first_name: 'Ada', last_name: 'Vitals' });
    otherPatient = await createPatient(f, { first_name: 'Bob', last_name: 'Vitals' });
    provider = await create(f, 'providers', { first_name: 'Grace', last_name: 'Hopper', title: 'MD' });
  });

  after(async () => {
    await f.s.close();
  });

  const path = (p: Row) => `patients/${p.id}/vital-signs`;
  const url = (p: Row, id?: string) => `${f.base}/${path(p)}${id ? `/${id}` : ''}`;
  const post = (p: Row, body: Row, key = f.key) => f.s.api('POST', url(p), { key, body });
  const patch = (p: Row, id: string, body: Row) => f.s.api('PATCH', url(p, id), { key: f.key, body });
  const record = async (p: Row, body: Row) => {
    const res = await post(p, body);
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.data as Row;
  };
  const archive = async (p: Row, id: string) => expect((await f.s.api('POST', `${url(p, id)}/archive`, { key: f.key })).status).to.equal(200);
  const restore = async (p: Row, id: string) => expect((await f.s.api('POST', `${url(p, id)}/restore`, { key: f.key })).status).to.equal(200);

  /**
   * The patient's latest_vitals_date as a repeated (so cached) patient list shows it, checked
   * against the single-record GET.
   */
  async function latestVitalsDate(p: Row): Promise<string | null> {
    const query = `patients?last_name=Vitals&fields=id,latest_vitals_date,version`;
    await list(f, query);
    const row = (await list(f, query)).data.find((r: Row) => r.id === p.id);
    const got = await f.s.api('GET', `${f.base}/patients/${p.id}`, { key: f.key });
    expect(got.body.data.latest_vitals_date).to.equal(row.latest_vitals_date);
    return row.latest_vitals_date;
  }

  describe('record, read, list', () => {
    const readings: Row[] = [];

    it('records a reading with only date_taken: no follow-up plan, no flags, not blocking, the caller as created_by', async () => {
      const r = await record(patient, { date_taken: '2025-01-15' });
      expect(r).to.include({ patient_id: patient.id, date_taken: '2025-01-15', has_followup_plan: false, is_procedure_blocking: false, version: 1, deleted_at: null, bp_systolic: null, temperature_f: null });
      expect(r.abnormal_flags).to.deep.equal([]);
      expect(r.created_by).to.be.a('string').and.not.empty;
      readings.push(r);
    });

    it('records every field of the seed: integers as integers, decimals as decimal strings, the provider embedded with ?include', async () => {
      const body = {
        date_taken: '2025-03-02', time_taken: '09:30', provider_id: provider.id, bp_systolic: 118, bp_diastolic: 76, pulse: 70,
        respiration_rate: 14, oxygen_saturation: 98, temperature_f: '98.6', height_inches: '66.5', weight_lbs: '154.25',
        weight_code: 'LOINC-29463-7', bmi: '24.6', bmi_percentile: 50, has_followup_plan: true, note: 'Seated, left arm',
      };
      const r = await record(patient, body);
      expect(r).to.include(body);
      expect(r.abnormal_flags).to.deep.equal([]);
      readings.push(r);
      const got = await f.s.api('GET', `${url(patient, r.id)}?include=provider`, { key: f.key });
      expect(got.status).to.equal(200);
      expect(got.headers.get('etag')).to.equal('W/"1"');
      expect(got.body.data).to.include({ id: r.id, temperature_f: '98.6', is_procedure_blocking: false });
      expect(got.body.data.provider).to.include({ id: provider.id, last_name: 'Hopper' });
      readings.push(await record(patient, { date_taken: '2024-11-20' }));
      readings.push(await record(patient, { date_taken: '2025-03-02', time_taken: '14:05' }));
      await record(otherPatient, { date_taken: '2025-02-01' });
    });

    it('lists the patient in the URL only, newest date_taken first; ?sort=-date_taken,-time_taken orders within a day', async () => {
      const page = await list(f, path(patient));
      expect(page.total_count).to.equal(4);
      expect(page.data.map((r: Row) => r.date_taken)).to.deep.equal(['2025-03-02', '2025-03-02', '2025-01-15', '2024-11-20']);
      expect(ids(page.data).slice(2)).to.deep.equal([readings[0].id, readings[2].id]);
      const timed = await list(f, `${path(patient)}?sort=-date_taken,-time_taken`);
      expect(ids(timed.data)).to.deep.equal([readings[3].id, readings[1].id, readings[0].id, readings[2].id]);
    });

    it('filters by the seed\'s date_from / date_to as date_taken[gte] / [lte], both inclusive', async () => {
      const page = await list(f, `${path(patient)}?date_taken[gte]=2025-01-15&date_taken[lte]=2025-03-01`);
      expect(ids(page.data)).to.deep.equal([readings[0].id]);
      expect(ids((await list(f, `${path(patient)}?date_taken[gte]=2025-03-02`)).data).sort()).to.deep.equal([readings[1].id, readings[3].id].sort());
      expect(ids((await list(f, `${path(patient)}?date_taken[lte]=2024-11-20`)).data)).to.deep.equal([readings[2].id]);
      expectError(await f.s.api('GET', `${url(patient)}?date_from=2025-01-01`, { key: f.key }), 400, 'validation_error');
      expectError(await f.s.api('GET', `${url(patient)}?date_taken[gte]=yesterday`, { key: f.key }), 400, 'validation_error');
    });

    it('answers another patient\'s reading, a missing patient and another organization with 404', async () => {
      const theirs = (await list(f, path(otherPatient))).data[0];
      expectError(await f.s.api('GET', url(patient, theirs.id), { key: f.key }), 404, 'not_found');
      expectError(await patch(patient, theirs.id, { base_version: 1, note: 'x' }), 404, 'not_found');
      expectError(await f.s.api('POST', `${url(patient, theirs.id)}/archive`, { key: f.key }), 404, 'not_found');
      expectError(await f.s.api('GET', url(patient, MISSING_ID), { key: f.key }), 404, 'not_found');
      expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/vital-signs`, { key: f.key }), 404, 'not_found');
      expectError(await f.s.api('POST', `${f.base}/patients/${MISSING_ID}/vital-signs`, { key: f.key, body: { date_taken: '2025-01-01' } }), 404, 'not_found');
      const org2 = await f.s.createOrg();
      const both = (await f.s.createKey({ orgs: [f.org.slug, org2.slug], scopes: ['*'], rateLimit: 100000 })).key;
      expectError(await f.s.api('GET', `/api/v1/${org2.slug}/${path(patient)}`, { key: both }), 404, 'not_found');
      expectError(await f.s.api('GET', `/api/v1/${org2.slug}/${path(patient)}/${readings[0].id}`, { key: both }), 404, 'not_found');
    });

    it('is served under the patients scope, and its reads are audited', async () => {
      const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'], rateLimit: 100000 })).key;
      expect((await f.s.api('GET', url(patient), { key: reader })).status).to.equal(200);
      expectError(await post(patient, { date_taken: '2025-01-01' }, reader), 403, 'forbidden');
      expect((await f.s.api('GET', url(patient, readings[0].id), { key: reader })).status).to.equal(200);
      await f.s.rt.audit.flush();
      const audit = await list(f, `audit-events?resource_id=${readings[0].id}&action=read`);
      expect(audit.total_count).to.be.greaterThan(0);
    });
  });

  describe('validation', () => {
    it('requires date_taken, and refuses unknown and read-only fields', async () => {
      const missing = await post(patient, { pulse: 70 });
      expectError(missing, 400, 'validation_error');
      expect(detailPaths(missing)).to.deep.equal(['/body/date_taken']);
      for (const extra of [{ abnormal_flags: [] }, { is_procedure_blocking: true }, { created_by: 'me' }, { patient_id: otherPatient.id }, { blood_type: 'A' }]) {
        expectError(await post(patient, { date_taken: '2025-01-01', ...extra }), 400, 'validation_error');
      }
    });

    it('refuses integer readings outside their physiological bounds, naming each field', async () => {
      const res = await post(patient, { date_taken: '2025-01-01', bp_systolic: 301, bp_diastolic: 19, pulse: 19, respiration_rate: 81, oxygen_saturation: 101, bmi_percentile: -1 });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res).sort()).to.deep.equal(['/body/bmi_percentile', '/body/bp_diastolic', '/body/bp_systolic', '/body/oxygen_saturation', '/body/pulse', '/body/respiration_rate']);
      expectError(await post(patient, { date_taken: '2025-01-01', pulse: 72.5 }), 400, 'validation_error');
      expect((await post(patient, { date_taken: '2020-01-01', bp_systolic: 300, bp_diastolic: 20, pulse: 20, oxygen_saturation: 50 })).status).to.equal(201);
    });

    it('takes decimals as JSON numbers or decimal strings with at most two decimals, within bounds, and returns text', async () => {
      const asNumber = await post(patient, { date_taken: '2025-01-01', temperature_f: 98.6, weight_lbs: 154, bmi: 22.75 });
      expect(asNumber.status, JSON.stringify(asNumber.body)).to.equal(201);
      expect(asNumber.body.data).to.include({ temperature_f: '98.6', weight_lbs: '154', bmi: '22.75' });
      for (const bad of ['98.654', '-98.6', '098.6', '98.', 'warm', 98.654, -98.6, 1e21, true]) {
        const res = await post(patient, { date_taken: '2025-01-01', temperature_f: bad });
        expectError(res, 400, 'validation_error');
        expect(detailPaths(res), String(bad)).to.deep.equal(['/body/temperature_f']);
      }
      const out = await post(patient, { date_taken: '2025-01-01', temperature_f: '120', weight_lbs: '0.5', height_inches: '109', bmi: '151' });
      expectError(out, 400, 'validation_error');
      expect(detailPaths(out).sort()).to.deep.equal(['/body/bmi', '/body/height_inches', '/body/temperature_f', '/body/weight_lbs']);
      expect(out.body.details.find((d: Row) => d.path === '/body/temperature_f').message).to.equal('must be between 80 and 115 °F');
      expect((await post(patient, { date_taken: '2020-01-01', temperature_f: '115', weight_lbs: '1', height_inches: '10.25', bmi: '5' })).status).to.equal(201);
    });

    it('refuses a bad time_taken or date_taken', async () => {
      for (const time_taken of ['25:00', '9:30', '09:60', 'noon']) expectError(await post(patient, { date_taken: '2025-01-01', time_taken }), 400, 'validation_error');
      expect((await post(patient, { date_taken: '2020-01-01', time_taken: '23:59:59' })).status).to.equal(201);
      expectError(await post(patient, { date_taken: '2025-02-30' }), 400, 'validation_error');
    });

    it('refuses a diastolic pressure not below the systolic, on create and against the stored value on update', async () => {
      const res = await post(patient, { date_taken: '2025-01-01', bp_systolic: 80, bp_diastolic: 80 });
      expectError(res, 422, 'unprocessable');
      expect(detailPaths(res)).to.deep.equal(['/body/bp_diastolic']);
      const r = await record(patient, { date_taken: '2020-01-02', bp_systolic: 120, bp_diastolic: 80 });
      expectError(await patch(patient, r.id, { base_version: 1, bp_systolic: 75 }), 422, 'unprocessable');
      expect((await patch(patient, r.id, { base_version: 1, bp_systolic: 110 })).status).to.equal(200);
    });

    it('refuses an unknown or another organization\'s provider with 422 naming provider_id', async () => {
      const org2 = await f.s.createOrg();
      const key2 = (await f.s.createKey({ orgs: [org2.slug], scopes: ['*'], rateLimit: 100000 })).key;
      const foreign = (await f.s.api('POST', `/api/v1/${org2.slug}/providers`, { key: key2, body: { first_name: 'Other', last_name: 'Clinic' } })).body.data.id;
      for (const provider_id of [MISSING_ID, foreign]) {
        const res = await post(patient, { date_taken: '2025-01-01', provider_id });
        expectError(res, 422, 'unprocessable');
        expect(detailPaths(res)).to.deep.equal(['/body/provider_id']);
      }
    });

    it('requires base_version on PATCH, and a stale one is a version_conflict', async () => {
      const r = await record(patient, { date_taken: '2020-01-03' });
      expectError(await patch(patient, r.id, { note: 'x' }), 400, 'validation_error');
      expect((await patch(patient, r.id, { base_version: 1, note: 'first' })).status).to.equal(200);
      expectError(await patch(patient, r.id, { base_version: 1, note: 'second' }), 409, 'version_conflict');
    });
  });

  describe('abnormal_flags and is_procedure_blocking', () => {
    /** The flags of a reading with this one value. */
    async function flagsOf(field: string, value: unknown): Promise<{ severity: string | null; blocking: boolean; message?: string }> {
      const r = await record(otherPatient, { date_taken: '2019-06-01', [field]: value });
      expect(r.abnormal_flags.length, JSON.stringify(r.abnormal_flags)).to.be.at.most(1);
      const flag = r.abnormal_flags[0];
      if (flag) expect(flag.vital).to.equal(field);
      return { severity: flag?.severity ?? null, blocking: r.is_procedure_blocking, message: flag?.message };
    }

    const cases: [string, unknown, string | null][] = [
      ['bp_systolic', 139, null], ['bp_systolic', 140, 'warning'], ['bp_systolic', 180, 'warning'], ['bp_systolic', 181, 'critical'],
      ['bp_systolic', 90, null], ['bp_systolic', 89, 'warning'], ['bp_systolic', 69, 'critical'],
      ['bp_diastolic', 89, null], ['bp_diastolic', 90, 'warning'], ['bp_diastolic', 120, 'warning'], ['bp_diastolic', 121, 'critical'],
      ['oxygen_saturation', 95, null], ['oxygen_saturation', 94, 'warning'], ['oxygen_saturation', 93, 'critical'], ['oxygen_saturation', 100, null],
      ['pulse', 100, null], ['pulse', 101, 'warning'], ['pulse', 130, 'warning'], ['pulse', 131, 'critical'], ['pulse', 39, 'critical'],
      ['respiration_rate', 20, null], ['respiration_rate', 21, 'warning'], ['respiration_rate', 31, 'critical'], ['respiration_rate', 7, 'critical'],
      ['temperature_f', '99.5', null], ['temperature_f', '99.6', 'warning'], ['temperature_f', '103', 'warning'], ['temperature_f', '103.1', 'critical'], ['temperature_f', '94.9', 'critical'],
      ['bmi', '29.9', null], ['bmi', '30', 'warning'], ['bmi', '45.2', 'warning'], ['bmi', '18.4', 'warning'],
      ['bmi_percentile', 84, null], ['bmi_percentile', 85, 'warning'], ['bmi_percentile', 4, 'warning'],
      ['height_inches', '108', null], ['weight_lbs', '1400', null],
    ];
    for (const [field, value, severity] of cases) {
      it(`${field} ${value}: ${severity ?? 'no flag'}${severity === 'critical' ? ', blocking' : ''}`, async () => {
        const got = await flagsOf(field, value);
        expect(got.severity).to.equal(severity);
        expect(got.blocking).to.equal(severity === 'critical');
      });
    }

    it('says which vital passes which limit, one flag per vital, and blocks when any one is critical', async () => {
      const r = await record(otherPatient, { date_taken: '2019-06-02', bp_systolic: 185, bp_diastolic: 95, oxygen_saturation: 97 });
      expect(r.abnormal_flags).to.deep.equal([
        { vital: 'bp_systolic', severity: 'critical', message: 'Systolic blood pressure 185 mmHg is above the critical maximum of 180 mmHg' },
        { vital: 'bp_diastolic', severity: 'warning', message: 'Diastolic blood pressure 95 mmHg is above the normal maximum of 89 mmHg' },
      ]);
      expect(r.is_procedure_blocking).to.equal(true);
      expect((await flagsOf('oxygen_saturation', 93)).message).to.equal('Oxygen saturation (SpO2) 93 % is below the critical minimum of 94 %');
    });

    it('documents the flag items and the thresholds in the OpenAPI document', async () => {
      const schema = (await f.s.api('GET', '/api/openapi.json', {})).body.components.schemas.PatientVitalSign;
      expect(schema.properties.abnormal_flags).to.include({ type: 'array', readOnly: true });
      expect(schema.properties.abnormal_flags.items.properties.severity.enum).to.deep.equal(['warning', 'critical']);
      expect(schema.properties.is_procedure_blocking).to.include({ type: 'boolean', readOnly: true });
      expect(schema.properties.bp_systolic.description).to.include('critical (blocks procedures) outside 70–180');
      expect(schema.properties.oxygen_saturation.description).to.include('critical (blocks procedures) below 94');
    });

    it('recomputes them from the stored values: on GET, in lists, and after an update', async () => {
      const r = await record(otherPatient, { date_taken: '2019-06-03', bp_systolic: 190, bp_diastolic: 100 });
      const got = (await f.s.api('GET', url(otherPatient, r.id), { key: f.key })).body.data;
      expect(got.is_procedure_blocking).to.equal(true);
      const listed = (await list(f, `${path(otherPatient)}?date_taken=2019-06-03`)).data[0];
      expect(listed.abnormal_flags).to.deep.equal(r.abnormal_flags);
      const res = await patch(otherPatient, r.id, { base_version: 1, bp_systolic: 125, bp_diastolic: 80 });
      expect(res.status).to.equal(200);
      expect(res.body.data).to.include({ is_procedure_blocking: false, version: 2 });
      expect(res.body.data.abnormal_flags).to.deep.equal([]);
      const cleared = await patch(otherPatient, r.id, { base_version: 2, bp_systolic: null, oxygen_saturation: 90 });
      expect(cleared.body.data.abnormal_flags.map((fl: Row) => fl.vital)).to.deep.equal(['oxygen_saturation']);
      expect(cleared.body.data.is_procedure_blocking).to.equal(true);
    });
  });

  describe('the patient\'s latest_vitals_date', () => {
    let p: Row;
    before(async () => {
      p = await createPatient(f, { first_name: 'Cy', last_name: 'Vitals' });
    });

    it('is null without vital signs, and follows every create, date change, archive and restore at once, cached lists included', async () => {
      expect(await latestVitalsDate(p)).to.equal(null);
      const jan = await record(p, { date_taken: '2025-01-10' });
      expect(await latestVitalsDate(p)).to.equal('2025-01-10');
      const older = await record(p, { date_taken: '2024-06-01' });
      expect(await latestVitalsDate(p)).to.equal('2025-01-10');
      const mar = await record(p, { date_taken: '2025-03-05' });
      expect(await latestVitalsDate(p)).to.equal('2025-03-05');

      // A date change moves it, in either direction; a change of anything else leaves it.
      expect((await patch(p, mar.id, { base_version: 1, date_taken: '2025-04-01' })).status).to.equal(200);
      expect(await latestVitalsDate(p)).to.equal('2025-04-01');
      expect((await patch(p, mar.id, { base_version: 2, date_taken: '2024-01-01' })).status).to.equal(200);
      expect(await latestVitalsDate(p)).to.equal('2025-01-10');
      expect((await patch(p, older.id, { base_version: 1, note: 'rechecked' })).status).to.equal(200);
      expect(await latestVitalsDate(p)).to.equal('2025-01-10');

      // Archive (POST …/archive or DELETE) leaves the archived reading out; restore brings it back.
      await archive(p, jan.id);
      expect(await latestVitalsDate(p)).to.equal('2024-06-01');
      expect((await f.s.api('DELETE', url(p, older.id), { key: f.key })).status).to.equal(200);
      expect(await latestVitalsDate(p)).to.equal('2024-01-01');
      await archive(p, mar.id);
      expect(await latestVitalsDate(p)).to.equal(null);
      await restore(p, jan.id);
      expect(await latestVitalsDate(p)).to.equal('2025-01-10');
      await restore(p, older.id);
      expect(await latestVitalsDate(p)).to.equal('2025-01-10');
    });

    it('is the patient\'s own: another patient\'s readings leave it alone', async () => {
      const before = await latestVitalsDate(p);
      await record(otherPatient, { date_taken: '2030-01-01' });
      expect(await latestVitalsDate(p)).to.equal(before);
    });

    it('is derived: the patient keeps its version and gets no audit row of its own, and the field is read-only', async () => {
      const got = (await f.s.api('GET', `${f.base}/patients/${p.id}`, { key: f.key })).body.data;
      expect(got.version).to.equal(1);
      await f.s.rt.audit.flush();
      expect((await list(f, `audit-events?resource=patient&resource_id=${p.id}&action=create`)).total_count).to.equal(1);
      expect((await list(f, `audit-events?resource=patient&resource_id=${p.id}&action=update`)).total_count).to.equal(0);
      expectError(await f.s.api('PATCH', `${f.base}/patients/${p.id}`, { key: f.key, body: { base_version: 1, latest_vitals_date: '2025-01-01' } }), 400, 'validation_error');
    });

    it('ends at the latest date when readings of one patient are recorded concurrently', async () => {
      const q = await createPatient(f, { first_name: 'Di', last_name: 'Vitals' });
      const dates = ['2023-05-01', '2023-09-14', '2023-02-28', '2023-12-31', '2023-07-04', '2023-11-11'];
      const results = await Promise.all(dates.map((date_taken) => post(q, { date_taken })));
      expect(results.map((r) => r.status)).to.deep.equal(dates.map(() => 201));
      expect(await latestVitalsDate(q)).to.equal('2023-12-31');
    });

    it('rolls back with a refused vital-signs write', async () => {
      const before = await latestVitalsDate(p);
      expectError(await post(p, { date_taken: '2031-01-01', bp_systolic: 80, bp_diastolic: 90 }), 422, 'unprocessable');
      expect(await latestVitalsDate(p)).to.equal(before);
    });
  });
});
