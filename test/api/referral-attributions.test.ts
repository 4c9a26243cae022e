import { expect } from 'chai';
import { MISSING_ID, create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Referral attributions (seed 001 §1.10, §2.13, §3.20): how a patient was acquired, nested under
// the patient; exactly one source, sources immutable, one live primary per patient, archive with
// base_version as a query parameter (or If-Match).

describe('Chart sub-resource: referral attributions', () => {
  let f: Fixture;
  let patient: Row;
  let other: Row;
  let referrer: Row;
  let source: Row;
  let partner: Row;
  let provider: Row;

  before(async () => {
    f = await setupApi();
    patient = await createPatient(f, { first_name: 'Ada', last_name: 'Referred' });
    other = await createPatient(f, { first_name: 'Bea', last_name: 'Referred' });
    referrer = await createPatient(f, { first_name: 'Cal', last_name: 'Referrer' });
    source = await create(f, 'referral-sources', { name: 'Google search', channel: 'online' });
    partner = await create(f, 'referral-partners', { name: 'Lakeside Family Medicine', partner_type: 'clinic' });
    provider = await create(f, 'providers', { first_name: 'Jane', last_name: 'Smith' });
  });

  after(async () => {
    await f.s.close();
  });

  const path = (p: Row) => `patients/${p.id}/referral-attributions`;
  const post = (p: Row, body: Row) => f.s.api('POST', `${f.base}/${path(p)}`, { key: f.key, body });
  const patch = (p: Row, id: string, body: Row, headers?: Record<string, string>) => f.s.api('PATCH', `${f.base}/${path(p)}/${id}`, { key: f.key, body, headers });
  const archive = (p: Row, id: string, query = '', headers?: Record<string, string>) => f.s.api('POST', `${f.base}/${path(p)}/${id}/archive${query}`, { key: f.key, headers });

  it('records an attribution to each kind of source, with attributed_at set at create and role secondary by default', async () => {
    const res = await post(patient, { referral_source_id: source.id, source_note: 'Searched for a dentist nearby' });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    const a = res.body.data;
    expect(a).to.include({ patient_id: patient.id, referral_source_id: source.id, attribution_role: 'secondary', source_note: 'Searched for a dentist nearby', version: 1 });
    expect(a).to.include({ referral_partner_id: null, provider_id: null, referring_patient_id: null });
    expect(a.attributed_at).to.be.a('string');
    expect(Date.parse(a.attributed_at)).to.be.closeTo(Date.now(), 60_000);
    for (const body of [{ referral_partner_id: partner.id, attribution_role: 'assist' }, { provider_id: provider.id }, { referring_patient_id: referrer.id, attribution_role: 'primary' }]) {
      const r = await post(patient, body);
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      expect(r.body.data).to.include(body);
    }
  });

  it('refuses attributed_at in the body: the server sets it', async () => {
    const res = await post(other, { provider_id: provider.id, attributed_at: '2020-01-01T00:00:00Z' });
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/body/attributed_at']);
  });

  it('needs exactly one source: none is 422 attribution_source_required, several 422 attribution_source_ambiguous', async () => {
    const none = await post(other, { attribution_role: 'secondary', source_note: 'Walk-in' });
    expectError(none, 422, 'attribution_source_required');
    expect(detailPaths(none)).to.deep.equal(['/body/referral_source_id', '/body/referral_partner_id', '/body/provider_id', '/body/referring_patient_id']);
    const nulls = await post(other, { referral_source_id: null, provider_id: '' });
    expectError(nulls, 422, 'attribution_source_required');
    const two = await post(other, { referral_source_id: source.id, provider_id: provider.id });
    expectError(two, 422, 'attribution_source_ambiguous');
    expect(detailPaths(two)).to.deep.equal(['/body/referral_source_id', '/body/provider_id']);
    expect((await list(f, path(other))).data).to.deep.equal([]);
  });

  it('refuses a source that does not exist (or is archived) with 422 unprocessable naming the field', async () => {
    for (const field of ['referral_source_id', 'referral_partner_id', 'provider_id', 'referring_patient_id']) {
      const res = await post(other, { [field]: MISSING_ID });
      expectError(res, 422, 'unprocessable');
      expect(detailPaths(res)).to.deep.equal([`/body/${field}`]);
    }
    const old = await create(f, 'referral-sources', { name: 'Yellow pages', channel: 'print' });
    expect((await f.s.api('POST', `${f.base}/referral-sources/${old.id}/archive`, { key: f.key })).status).to.equal(200);
    const res = await post(other, { referral_source_id: old.id });
    expectError(res, 422, 'unprocessable');
    expect(detailPaths(res)).to.deep.equal(['/body/referral_source_id']);
    expectError(await post(other, { attribution_role: 'first', provider_id: provider.id }), 400, 'validation_error');
  });

  it('answers 404 for a missing patient', async () => {
    expectError(await f.s.api('POST', `${f.base}/patients/${MISSING_ID}/referral-attributions`, { key: f.key, body: { provider_id: provider.id } }), 404, 'not_found');
    expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/referral-attributions`, { key: f.key }), 404, 'not_found');
  });

  it('allows one live primary attribution per patient: a second is 409 primary_attribution_exists, by create or by PATCH', async () => {
    const second = await post(patient, { provider_id: provider.id, attribution_role: 'primary' });
    expectError(second, 409, 'primary_attribution_exists');
    expect(detailPaths(second)).to.deep.equal(['/body/attribution_role']);
    const [secondary] = (await list(f, `${path(patient)}?attribution_role=secondary`)).data;
    const promote = await patch(patient, secondary.id, { attribution_role: 'primary', base_version: secondary.version });
    expectError(promote, 409, 'primary_attribution_exists');
    // Another patient has a primary slot of its own.
    expect((await post(other, { provider_id: provider.id, attribution_role: 'primary' })).status).to.equal(201);
  });

  it('lets only one of several concurrent primary creates win', async () => {
    const racer = await createPatient(f, { first_name: 'Dee', last_name: 'Race' });
    const results = await Promise.all(Array.from({ length: 6 }, () => post(racer, { referral_source_id: source.id, attribution_role: 'primary' })));
    expect(results.map((r) => r.status).sort()).to.deep.equal([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, 'primary_attribution_exists');
    expect((await list(f, `${path(racer)}?attribution_role=primary`)).total_count).to.equal(1);
  });

  it('updates the role and the note only, with base_version; a stale one is 409 version_conflict', async () => {
    const [a] = (await list(f, `${path(patient)}?referral_partner_id=${partner.id}`)).data;
    const noVersion = await patch(patient, a.id, { source_note: 'x' });
    expectError(noVersion, 400, 'validation_error');
    expect(detailPaths(noVersion)).to.deep.equal(['/body/base_version']);
    const ok = await patch(patient, a.id, { attribution_role: 'secondary', source_note: 'Dr. Reyes sent her', base_version: a.version });
    expect(ok.status).to.equal(200);
    expect(ok.body.data).to.include({ attribution_role: 'secondary', source_note: 'Dr. Reyes sent her', version: a.version + 1, attributed_at: a.attributed_at });
    expectError(await patch(patient, a.id, { source_note: 'stale', base_version: a.version }), 409, 'version_conflict');
    const viaHeader = await patch(patient, a.id, { source_note: 'via If-Match' }, { 'If-Match': `W/"${a.version + 1}"` });
    expect(viaHeader.status).to.equal(200);
  });

  it('refuses a change of source on PATCH, naming the field', async () => {
    const [a] = (await list(f, `${path(patient)}?provider_id=${provider.id}`)).data;
    for (const body of [{ provider_id: provider.id }, { referral_source_id: source.id }, { referring_patient_id: referrer.id }, { referral_partner_id: partner.id }]) {
      const res = await patch(patient, a.id, { ...body, base_version: a.version });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal([`/body/${Object.keys(body)[0]}`]);
    }
    const read = await f.s.api('PATCH', `${f.base}/${path(patient)}/${a.id}`, { key: f.key, body: { attributed_at: '2020-01-01T00:00:00Z', base_version: a.version } });
    expectError(read, 400, 'validation_error');
  });

  it('archives with base_version as a query parameter (or If-Match): required, and a stale one is 409', async () => {
    const [a] = (await list(f, `${path(patient)}?provider_id=${provider.id}`)).data;
    const missing = await archive(patient, a.id);
    expectError(missing, 400, 'validation_error');
    expect(detailPaths(missing)).to.deep.equal(['/query/base_version']);
    expectError(await archive(patient, a.id, '?base_version=abc'), 400, 'validation_error');
    expectError(await archive(patient, a.id, `?base_version=${a.version}&force=true`), 400, 'validation_error');
    expectError(await archive(patient, a.id, `?base_version=${a.version}`, { 'If-Match': `W/"${a.version + 1}"` }), 400, 'validation_error');
    const stale = await archive(patient, a.id, `?base_version=${a.version + 5}`);
    expectError(stale, 409, 'version_conflict');
    const del = await f.s.api('DELETE', `${f.base}/${path(patient)}/${a.id}`, { key: f.key });
    expectError(del, 400, 'validation_error');
    const ok = await archive(patient, a.id, `?base_version=${a.version}`);
    expect(ok.status).to.equal(200);
    expect(ok.body.data.deleted_at).to.be.a('string');
    expect(ok.body.data.version).to.equal(a.version + 1);
    expect(ids((await list(f, path(patient))).data)).to.not.include(a.id);
    const [b] = (await list(f, `${path(patient)}?referral_source_id=${source.id}`)).data;
    const viaHeader = await f.s.api('DELETE', `${f.base}/${path(patient)}/${b.id}`, { key: f.key, headers: { 'If-Match': `W/"${b.version}"` } });
    expect(viaHeader.status).to.equal(200);
  });

  it('frees the primary slot when the primary attribution is archived', async () => {
    const [primary] = (await list(f, `${path(patient)}?attribution_role=primary`)).data;
    expect((await archive(patient, primary.id, `?base_version=${primary.version}`)).status).to.equal(200);
    const next = await post(patient, { referral_partner_id: partner.id, attribution_role: 'primary' });
    expect(next.status).to.equal(201);
    // Restoring the old primary would make two.
    expectError(await f.s.api('POST', `${f.base}/${path(patient)}/${primary.id}/restore`, { key: f.key }), 409, 'primary_attribution_exists');
  });

  it("answers another patient's attribution as not found (update and archive check ownership)", async () => {
    const [a] = (await list(f, path(patient))).data;
    expectError(await patch(other, a.id, { source_note: 'x', base_version: a.version }), 404, 'not_found');
    expectError(await archive(other, a.id, `?base_version=${a.version}`), 404, 'not_found');
    expectError(await f.s.api('GET', `${f.base}/${path(other)}/${a.id}`, { key: f.key }), 404, 'not_found');
  });

  it('lists newest attribution first and embeds the sources on request', async () => {
    const page = await list(f, `${path(patient)}?include_archived=true&include=referral_source,referral_partner,provider,referring_patient`);
    expect(page.total_count).to.equal(page.data.length);
    const times = page.data.map((a: Row) => a.attributed_at);
    expect(times).to.deep.equal([...times].sort().reverse());
    const withPartner = page.data.find((a: Row) => a.referral_partner_id);
    expect(withPartner.referral_partner).to.include({ id: partner.id, name: 'Lakeside Family Medicine' });
    const withReferrer = page.data.find((a: Row) => a.referring_patient_id);
    expect(withReferrer.referring_patient).to.include({ id: referrer.id, last_name: 'Referrer' });
  });
});
