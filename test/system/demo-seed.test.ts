import { expect } from 'chai';
import { chartBodies } from '../../seeds/chart.js';
import { communicationLogBodies } from '../../seeds/communication-logs.js';
import { CUSTOM_FIELD_DEFINITIONS, customFieldValues } from '../../seeds/custom-fields.js';
import { vitalSignBodies } from '../../seeds/vital-signs.js';
import { referralAndTagBodies } from '../../seeds/referrals-tags.js';
import { DEMO_ORG, seedDemo } from '../../seeds/demo.js';
import { relationshipsAlertsPlan } from '../../seeds/relationships-alerts.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The demo organization gets its catalogs and chart rows, and seeding twice changes nothing.

describe('Demo seed: catalogs and charts', function () {
  this.timeout(120_000);
  let s: TestServer;
  let key: string;
  let first: Awaited<ReturnType<typeof seedDemo>>;
  const base = `/api/v1/${DEMO_ORG.slug}`;

  before(async () => {
    s = await startTestServer();
    first = await seedDemo(s.rt);
    key = (await s.createKey({ orgs: [DEMO_ORG.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
  });

  after(async () => {
    await s.close();
  });

  // The patient with the most rows in a chart table among those not archived (an archived
  // patient's chart is not found); ties broken by id so every database picks the same one.
  async function busiestLivePatient(table: string): Promise<Record<string, any>[]> {
    return s.rt.db.knex(table).join('patients', 'patients.id', `${table}.patient_id`).whereNull('patients.deleted_at')
      .select(`${table}.patient_id`).count({ n: '*' }).groupBy(`${table}.patient_id`).orderBy([{ column: 'n', order: 'desc' }, { column: `${table}.patient_id` }]).limit(1);
  }

  it('fills every catalog of the demo organization with a few dozen entries', async () => {
    expect(first.created).to.equal(true);
    for (const [path, count] of [['allergy-definitions', 'allergy_definitions'], ['disease-definitions', 'disease_definitions'], ['medication-definitions', 'medication_definitions'], ['patient-alert-definitions', 'patient_alert_definitions'], ['patient-tag-definitions', 'patient_tag_definitions']]) {
      const res = await s.api('GET', `${base}/${path}?limit=1`, { key });
      expect(res.status, path).to.equal(200);
      expect(res.body.total_count, path).to.equal(first.counts[count]).and.to.be.at.least(20);
    }
    const penicillin = await s.api('GET', `${base}/allergy-definitions?name=Penicillin`, { key });
    expect(penicillin.body.data[0]).to.include({ allergen_type: 'drug', rx_cui: '70618' });
    const hypertension = await s.api('GET', `${base}/disease-definitions?icd10_code=I10`, { key });
    expect(hypertension.body.data[0].name).to.equal('Essential hypertension');
  });

  it('gives the demo patients allergies, problems and medications that point at the catalogs', async () => {
    for (const [sub, count, ref] of [['allergies', 'patient_allergies', 'allergy_definition'], ['diseases', 'patient_diseases', 'disease_definition'], ['medications', 'patient_medications', 'medication_definition']]) {
      expect(first.counts[count], count).to.be.greaterThan(100);
      const rows = await busiestLivePatient(`patient_${sub}`);
      const res = await s.api('GET', `${base}/patients/${rows[0].patient_id}/${sub}?include=${ref}`, { key });
      expect(res.status, sub).to.equal(200);
      expect(res.body.total_count, sub).to.equal(Number(rows[0].n));
      const linked = res.body.data.filter((r: Record<string, any>) => r[`${ref}_id`]);
      expect(linked.length, sub).to.be.greaterThan(0);
      for (const r of linked) expect(r[ref].id).to.equal(r[`${ref}_id`]);
    }
    const audited = await s.api('GET', `${base}/audit-events?resource=patient-medication&limit=1`, { key });
    expect(audited.body.total_count).to.equal(first.counts.patient_medications);
  });

  it('gives some demo patients communication log entries, newest first', async () => {
    expect(first.counts.patient_communication_logs).to.be.greaterThan(100);
    const rows = await busiestLivePatient('patient_communication_logs');
    const res = await s.api('GET', `${base}/patients/${rows[0].patient_id}/communication-logs`, { key });
    expect(res.status).to.equal(200);
    expect(res.body.total_count).to.equal(Number(rows[0].n));
    const times = res.body.data.map((r: Record<string, any>) => r.communication_datetime);
    expect(times).to.deep.equal([...times].sort().reverse());
    expect(res.body.data.every((r: Record<string, any>) => r.communication_source === 'user')).to.equal(true);
    const patients = Array.from({ length: 50 }, (_, i) => `patient-${i}`);
    expect(communicationLogBodies(patients, 7)).to.deep.equal(communicationLogBodies(patients, 7));
  });

  it('gives the demo patients guarantor families with relationships, and alerts active, disabled, archived and family-scoped', async () => {
    expect(first.counts.patient_relationships).to.be.greaterThan(20);
    expect(first.counts.patient_alerts).to.be.greaterThan(50);
    const knex = s.rt.db.knex;
    const byStatus = Object.fromEntries((await knex('patient_alerts').select('status').count({ n: '*' }).groupBy('status')).map((r: any) => [r.status, Number(r.n)]));
    for (const status of ['active', 'disabled', 'archived']) expect(byStatus[status], status).to.be.greaterThan(0);
    // A guardian in a family: its dependents, and its family of itself and those it is guarantor of.
    const [guardian] = await knex('patient_relationships').where({ is_guardian: true, relationship_type: 'parent' }).orderBy('from_patient_id').limit(1);
    const dependents = await s.api('GET', `${base}/patients/${guardian.from_patient_id}/dependents`, { key });
    expect(dependents.status).to.equal(200);
    expect(dependents.body.data.map((r: Record<string, any>) => r.to_patient_id)).to.include(guardian.to_patient_id);
    const family = await s.api('GET', `${base}/patients/${guardian.to_patient_id}/family`, { key });
    expect(family.body.data.map((p: Record<string, any>) => p.id)).to.include.members([guardian.from_patient_id, guardian.to_patient_id]);
    const [famAlert] = await knex('patient_alerts').where({ alert_scope: 'family', status: 'active' }).whereIn('patient_id', knex('patients').whereNotNull('responsible_party_id').whereNull('deleted_at').select('responsible_party_id')).orderBy('id').limit(1);
    expect(famAlert, 'a family alert of a guarantor').to.not.equal(undefined);
    const [member] = await knex('patients').where({ responsible_party_id: famAlert.patient_id }).whereNot('id', famAlert.patient_id).orderBy('id').limit(1);
    const alerts = await s.api('GET', `${base}/patients/${member.id}/alerts?include_family=true&limit=100`, { key });
    expect(alerts.body.data.map((a: Record<string, any>) => a.id)).to.include(famAlert.id);
    const ids = Array.from({ length: 60 }, (_, i) => `patient-${i}`);
    expect(relationshipsAlertsPlan(ids, ['d1', 'd2'], 7)).to.deep.equal(relationshipsAlertsPlan(ids, ['d1', 'd2'], 7));
  });

  it('gives many demo patients vital signs, some abnormal, and their latest_vitals_date', async () => {
    expect(first.counts.patient_vital_signs).to.be.greaterThan(300);
    const rows = await busiestLivePatient('patient_vital_signs');
    const res = await s.api('GET', `${base}/patients/${rows[0].patient_id}/vital-signs`, { key });
    expect(res.status).to.equal(200);
    expect(res.body.total_count).to.equal(Number(rows[0].n));
    const dates = res.body.data.map((r: Record<string, any>) => r.date_taken);
    expect(dates).to.deep.equal([...dates].sort().reverse());
    const patient = await s.api('GET', `${base}/patients/${rows[0].patient_id}`, { key });
    expect(patient.body.data.latest_vitals_date).to.equal(dates[0]);
    // Every patient's latest_vitals_date is the latest date_taken of its readings (null without).
    const latest = new Map<string, string>();
    for (const v of await s.rt.db.knex('patient_vital_signs').whereNull('deleted_at').select('patient_id', 'date_taken')) {
      if (!latest.has(v.patient_id) || latest.get(v.patient_id)! < v.date_taken) latest.set(v.patient_id, v.date_taken);
    }
    const stored = await s.rt.db.knex('patients').select('id', 'latest_vitals_date');
    expect(stored.filter((p: Record<string, any>) => p.latest_vitals_date !== null).length).to.be.greaterThan(100);
    for (const p of stored) expect(p.latest_vitals_date, p.id).to.equal(latest.get(p.id) ?? null);
    const critical = await s.rt.db.knex('patient_vital_signs').join('patients', 'patients.id', 'patient_vital_signs.patient_id').whereNull('patients.deleted_at')
      .where('bp_systolic', '>', 180).orderBy('patient_vital_signs.id').first('patient_vital_signs.id', 'patient_vital_signs.patient_id');
    const reading = await s.api('GET', `${base}/patients/${critical.patient_id}/vital-signs/${critical.id}`, { key });
    expect(reading.body.data.is_procedure_blocking).to.equal(true);
    expect(reading.body.data.abnormal_flags.map((fl: Record<string, any>) => fl.severity)).to.include('critical');
    const patients = Array.from({ length: 50 }, (_, i) => `patient-${i}`);
    expect(vitalSignBodies(patients, ['p1'], 7)).to.deep.equal(vitalSignBodies(patients, ['p1'], 7));
  });

  it('gives many demo patients referral attributions (one primary at most) and tags, filterable on the patient list', async () => {
    expect(first.counts.referral_sources).to.be.greaterThan(0);
    expect(first.counts.referral_partners).to.be.greaterThan(0);
    expect(first.counts.patient_referral_attributions).to.be.greaterThan(150);
    expect(first.counts.patient_tags).to.be.greaterThan(100);
    const rows = await busiestLivePatient('patient_referral_attributions');
    const res = await s.api('GET', `${base}/patients/${rows[0].patient_id}/referral-attributions?include=referral_source,referral_partner`, { key });
    expect(res.status).to.equal(200);
    expect(res.body.total_count).to.equal(Number(rows[0].n));
    expect(res.body.data.filter((a: Record<string, any>) => a.attribution_role === 'primary')).to.have.length(1);
    const tags = await s.api('GET', `${base}/patient-tag-definitions?sort=name&limit=1`, { key });
    const tagId = tags.body.data[0].id;
    const [{ n }] = await s.rt.db.knex('patient_tags').join('patients', 'patients.id', 'patient_tags.patient_id')
      .where('patient_tags.tag_definition_id', tagId).whereNull('patient_tags.deleted_at').whereNull('patients.deleted_at').count({ n: '*' });
    const tagged = await s.api('GET', `${base}/patients?tag_definition_id=${tagId}&limit=1`, { key });
    expect(tagged.status).to.equal(200);
    expect(tagged.body.total_count).to.equal(Number(n)).and.to.be.greaterThan(0);
    const ids = { referralSourceIds: ['s1', 's2'], referralPartnerIds: ['r1'], providerIds: ['p1'], tagDefinitionIds: ['t1', 't2', 't3'] };
    const patients = Array.from({ length: 50 }, (_, i) => `patient-${i}`);
    expect(referralAndTagBodies(patients, ids, 7)).to.deep.equal(referralAndTagBodies(patients, ids, 7));
  });

  it('gives the demo practice custom patient fields of every kind, with values, filterable on the patient list', async () => {
    expect(first.counts.patient_field_definitions).to.equal(CUSTOM_FIELD_DEFINITIONS.length);
    expect(first.counts.patient_field_values).to.be.greaterThan(500);
    const cvs = await s.api('GET', `${base}/patients?field.preferred_pharmacy=Rexall&limit=1`, { key });
    expect(cvs.status, JSON.stringify(cvs.body)).to.equal(200);
    const [{ n }] = await s.rt.db.knex('patient_field_values').join('patient_field_definitions', 'patient_field_definitions.id', 'patient_field_values.field_definition_id')
      .join('patients', 'patients.id', 'patient_field_values.patient_id').whereNull('patients.deleted_at')
      .where({ 'patient_field_definitions.key': 'preferred_pharmacy', 'patient_field_values.value_text': 'Rexall' }).count({ n: '*' });
    expect(cvs.body.total_count).to.equal(Number(n)).and.to.be.greaterThan(0);
    const form = await s.api('GET', `${base}/patients/${cvs.body.data[0].id}/field-values/form`, { key });
    expect(form.body.data.map((i: Record<string, any>) => i.key)).to.deep.equal(CUSTOM_FIELD_DEFINITIONS.map((d) => d.key));
    expect(form.body.data[0].value).to.equal('Rexall');
    const patients = Array.from({ length: 50 }, (_, i) => `patient-${i}`);
    expect(customFieldValues(patients, 7)).to.deep.equal(customFieldValues(patients, 7));
  });

  it('generates the same chart rows from the same ids', () => {
    const ids = { allergyDefinitionIds: ['a1', 'a2', 'a3'], diseaseDefinitionIds: ['d1', 'd2'], medicationDefinitionIds: ['m1', 'm2'], providerIds: ['p1'] };
    const patients = Array.from({ length: 50 }, (_, i) => `patient-${i}`);
    const one = chartBodies(patients, ids, 7);
    expect(chartBodies(patients, ids, 7)).to.deep.equal(one);
    expect(chartBodies(patients, ids, 8)).to.not.deep.equal(one);
    expect(one.some((c) => c.allergies.length) && one.some((c) => c.diseases.length) && one.some((c) => c.medications.length)).to.equal(true);
  });

  it('seeds once: a second call finds the organization and adds nothing', async () => {
    expect((await seedDemo(s.rt)).created).to.equal(false);
    const res = await s.api('GET', `${base}/patient-tag-definitions?limit=1`, { key });
    expect(res.body.total_count).to.equal(first.counts.patient_tag_definitions);
  });
});
