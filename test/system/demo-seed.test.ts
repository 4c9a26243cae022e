import { expect } from 'chai';
import { chartBodies } from '../../seeds/chart.js';
import { communicationLogBodies } from '../../seeds/communication-logs.js';
import { referralAndTagBodies } from '../../seeds/referrals-tags.js';
import { DEMO_ORG, seedDemo } from '../../seeds/demo.js';
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
