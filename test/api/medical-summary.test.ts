import { expect } from 'chai';
import { MISSING_ID, create, createPatient, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// GET /patients/{id}/medical-summary (seed 001 §1.7, §2.12, §3.16): the chart in one answer,
// composed in a fixed number of queries whatever the chart's size.

describe('Medical summary', () => {
  let f: Fixture;
  let patient: Row;
  let other: Row;
  const catalog: Record<string, Row> = {};
  const post = async (p: Row, sub: string, body: Row) => {
    const res = await f.s.api('POST', `${f.base}/patients/${p.id}/${sub}`, { key: f.key, body });
    expect(res.status, `${sub}: ${JSON.stringify(res.body)}`).to.equal(201);
    return res.body.data as Row;
  };
  const summary = async (p: Row) => {
    const res = await f.s.api('GET', `${f.base}/patients/${p.id}/medical-summary`, { key: f.key });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.data as Row;
  };

  before(async () => {
    f = await setupApi();
    patient = await createPatient(f, { first_name: 'Mia', last_name: 'Summary', medical_urgent_note: 'Latex allergy: use nitrile gloves', premedication_required: true, allergy_review_status: 'reviewed' });
    other = await createPatient(f, { first_name: 'Ned', last_name: 'Summary' });
    catalog.allergy = await create(f, 'allergy-definitions', { name: 'Latex', allergen_type: 'environmental' });
    catalog.disease = await create(f, 'disease-definitions', { name: 'Asthma', icd10_code: 'J45' });
    catalog.disease2 = await create(f, 'disease-definitions', { name: 'Sprain', icd10_code: 'S93' });
    catalog.medication = await create(f, 'medication-definitions', { name: 'Albuterol inhaler' });
    catalog.alert = await create(f, 'patient-alert-definitions', { name: 'Needs interpreter' });
  });
  after(async () => {
    await f.s.close();
  });

  it('composes allergies, current and past medications, active problems, the latest vitals and active alerts', async () => {
    const allergy = await post(patient, 'allergies', { allergy_definition_id: catalog.allergy.id, reaction: 'Hives' });
    const inactiveAllergy = await post(patient, 'allergies', { allergy_definition_id: catalog.allergy.id, status_is_active: false });
    const current = await post(patient, 'medications', { medication_definition_id: catalog.medication.id, dosage: '2 puffs' });
    const stopped = await post(patient, 'medications', { med_descript: 'Ibuprofen 200 mg' });
    const patched = await f.s.api('PATCH', `${f.base}/patients/${patient.id}/medications/${stopped.id}`, { key: f.key, body: { base_version: 1, status: 'discontinued' } });
    expect(patched.status).to.equal(200);
    const asthma = await post(patient, 'diseases', { disease_definition_id: catalog.disease.id });
    await post(patient, 'diseases', { disease_definition_id: catalog.disease2.id, problem_status: 'resolved' });
    await post(patient, 'vital-signs', { date_taken: '2025-01-10', pulse: 70 });
    const latest = await post(patient, 'vital-signs', { date_taken: '2025-03-02', time_taken: '09:00', pulse: 72 });
    await post(patient, 'vital-signs', { date_taken: '2025-03-02', time_taken: '08:00', pulse: 90 });
    const alert = await post(patient, 'alerts', { alert_definition_id: catalog.alert.id, is_urgent: true });
    const archived = await post(patient, 'alerts', { alert_definition_id: catalog.alert.id });
    expect((await f.s.api('POST', `${f.base}/patients/${patient.id}/alerts/${archived.id}/archive`, { key: f.key })).status).to.equal(200);
    await post(other, 'allergies', { allergy_definition_id: catalog.allergy.id });

    const s = await summary(patient);
    expect(s.patient).to.deep.equal({ id: patient.id, first_name: 'Mia', last_name: 'Summary', preferred_name: null });
    expect(s).to.include({ allergy_review_status: 'reviewed', medical_urgent_note: 'Latex allergy: use nitrile gloves', premedication_required: true });
    expect(s.allergies.map((a: Row) => a.id).sort()).to.deep.equal([allergy.id, inactiveAllergy.id].sort());
    expect(s.allergies[0].allergy_definition.name).to.equal('Latex');
    expect(s.current_medications.map((m: Row) => m.id)).to.deep.equal([current.id]);
    expect(s.current_medications[0].medication_definition.name).to.equal('Albuterol inhaler');
    expect(s.past_medications.map((m: Row) => m.id)).to.deep.equal([stopped.id]);
    expect(s.active_problems.map((d: Row) => d.id)).to.deep.equal([asthma.id]);
    expect(s.active_problems[0].disease_definition.name).to.equal('Asthma');
    expect(s.latest_vitals.id).to.equal(latest.id);
    expect(s.alerts.map((a: Row) => a.id)).to.deep.equal([alert.id]);
    expect(s.alerts[0].alert_definition.name).to.equal('Needs interpreter');
  });

  it('leaves archived chart rows out, and answers an empty chart with empty sections', async () => {
    const s = await summary(other);
    expect(s.allergies).to.have.length(1);
    expect(s).to.include({ latest_vitals: null });
    for (const k of ['current_medications', 'past_medications', 'active_problems', 'alerts']) expect(s[k], k).to.deep.equal([]);
    const allergy = s.allergies[0];
    expect((await f.s.api('POST', `${f.base}/patients/${other.id}/allergies/${allergy.id}/archive`, { key: f.key })).status).to.equal(200);
    expect((await summary(other)).allergies).to.deep.equal([]);
  });

  it('runs the same number of queries for a chart ten times larger', async () => {
    const counted = async (p: Row) => {
      let n = 0;
      const listener = () => n++;
      f.s.rt.db.knex.on('query', listener);
      try {
        await summary(p);
      } finally {
        f.s.rt.db.knex.off('query', listener);
      }
      return n;
    };
    const small = await createPatient(f, { first_name: 'Sam', last_name: 'Small' });
    const large = await createPatient(f, { first_name: 'Lou', last_name: 'Large' });
    for (const [p, n] of [[small, 2], [large, 20]] as const) {
      for (let i = 0; i < n; i++) {
        await post(p, 'allergies', { allergy_definition_id: catalog.allergy.id });
        await post(p, 'medications', { medication_definition_id: catalog.medication.id });
        await post(p, 'diseases', { disease_definition_id: catalog.disease.id });
        await post(p, 'vital-signs', { date_taken: `2025-02-${String(i + 1).padStart(2, '0')}`, pulse: 60 + i });
        await post(p, 'alerts', { alert_definition_id: catalog.alert.id });
      }
    }
    const [a, b] = [await counted(small), await counted(large)];
    expect(a).to.be.greaterThan(0);
    expect(b).to.equal(a);
    expect((await summary(large)).allergies).to.have.length(20);
  });

  it('answers a summary shown again from memory until the chart changes, and audits every answer', async () => {
    const p = await createPatient(f, { first_name: 'Cal', last_name: 'Cache' });
    await post(p, 'allergies', { allergy_definition_id: catalog.allergy.id });
    // Reads of the chart's tables (a driver that reads the commit signal through knex adds pragmas).
    let queries = 0;
    const listener = (q: { sql: string }) => {
      if (/\bpatient/.test(q.sql)) queries++;
    };
    const reads = async () => Number((await f.s.rt.db.knex('audit_events').where({ resource: 'patient-allergy', action: 'list' }).count({ n: '*' }))[0].n);
    await summary(p);
    await f.s.rt.audit.flush();
    const before = await reads();
    f.s.rt.db.knex.on('query', listener);
    try {
      await summary(p);
    } finally {
      f.s.rt.db.knex.off('query', listener);
    }
    expect(queries, 'no query composes it again').to.equal(0);
    await f.s.rt.audit.flush();
    expect(await reads()).to.equal(before + 1);
    const added = await post(p, 'allergies', { allergy_definition_id: catalog.allergy.id, reaction: 'Rash' });
    expect((await summary(p)).allergies.map((a: Row) => a.id)).to.include(added.id);
    const renamed = await f.s.api('PATCH', `${f.base}/allergy-definitions/${catalog.allergy.id}`, { key: f.key, body: { base_version: catalog.allergy.version, name: 'Natural rubber latex' } });
    expect(renamed.status, JSON.stringify(renamed.body)).to.equal(200);
    catalog.allergy = renamed.body.data;
    expect((await summary(p)).allergies[0].allergy_definition.name).to.equal('Natural rubber latex');
  });

  it('is 404 for a missing or archived patient, and needs the patients read scope', async () => {
    expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/medical-summary`, { key: f.key }), 404, 'not_found');
    const gone = await createPatient(f, { first_name: 'Gus', last_name: 'Gone' });
    expect((await f.s.api('POST', `${f.base}/patients/${gone.id}/archive`, { key: f.key })).status).to.equal(200);
    expectError(await f.s.api('GET', `${f.base}/patients/${gone.id}/medical-summary`, { key: f.key }), 404, 'not_found');
    const catalogsOnly = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['catalogs:read'] })).key;
    expectError(await f.s.api('GET', `${f.base}/patients/${patient.id}/medical-summary`, { key: catalogsOnly }), 403, 'forbidden');
    // Without catalogs:read the catalog entries are not embedded; their ids are still there.
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'] })).key;
    const plain = await f.s.api('GET', `${f.base}/patients/${patient.id}/medical-summary`, { key: reader });
    expect(plain.status).to.equal(200);
    expect(plain.body.data.allergies[0]).to.have.property('allergy_definition_id').that.is.a('string');
    expect(plain.body.data.allergies[0]).to.not.have.property('allergy_definition');
  });
});
