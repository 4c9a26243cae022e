import { expect } from 'chai';
import { DEMO_ORG, seedDemo } from '../../seeds/demo.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The demo organization gets its catalogs, and seeding twice changes nothing.

describe('Demo seed: catalogs', function () {
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

  it('seeds once: a second call finds the organization and adds nothing', async () => {
    expect((await seedDemo(s.rt)).created).to.equal(false);
    const res = await s.api('GET', `${base}/patient-tag-definitions?limit=1`, { key });
    expect(res.body.total_count).to.equal(first.counts.patient_tag_definitions);
  });
});
