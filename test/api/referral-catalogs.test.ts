import { expect } from 'chai';
import { create, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// The org catalogs referral attributions point at (seed 001 §2.13): referral sources and referral
// partners, configured by the practice like the other catalogs.

describe('Org catalogs: referral sources and referral partners', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  const post = (path: string, body: Row, key = f.key) => f.s.api('POST', `${f.base}/${path}`, { key, body });
  const patch = (path: string, body: Row) => f.s.api('PATCH', `${f.base}/${path}`, { key: f.key, body });

  it('creates entries with their defaults', async () => {
    const source = await create(f, 'referral-sources', { name: 'Spring mailer', channel: 'print', campaign_code: 'SPRING-25' });
    expect(source).to.include({ name: 'Spring mailer', channel: 'print', campaign_code: 'SPRING-25', version: 1, deleted_at: null });
    expect((await create(f, 'referral-sources', { name: 'Walk-by' })).channel).to.equal('other');
    const partner = await create(f, 'referral-partners', { name: 'Lakeside Family Medicine', partner_type: 'clinic', email: 'refer@lakeside.example' });
    expect(partner).to.include({ name: 'Lakeside Family Medicine', partner_type: 'clinic', email: 'refer@lakeside.example', version: 1 });
    expect((await create(f, 'referral-partners', { name: 'Dr. Osei' })).partner_type).to.equal('other');
  });

  it('requires a name and checks enums and emails', async () => {
    for (const path of ['referral-sources', 'referral-partners']) {
      const noName = await post(path, {});
      expectError(noName, 400, 'validation_error');
      expect(detailPaths(noName)).to.deep.equal(['/body/name']);
      expectError(await post(path, { name: '' }), 400, 'validation_error');
    }
    expect(detailPaths(await post('referral-sources', { name: 'Billboard', channel: 'billboard' }))).to.deep.equal(['/body/channel']);
    expect(detailPaths(await post('referral-partners', { name: 'Acme', partner_type: 'friend' }))).to.deep.equal(['/body/partner_type']);
    expect(detailPaths(await post('referral-partners', { name: 'Acme', email: 'not-an-email' }))).to.deep.equal(['/body/email']);
  });

  it('keeps names unique within the organization (409 duplicate)', async () => {
    await create(f, 'referral-sources', { name: 'Radio ad', channel: 'broadcast' });
    const dup = await post('referral-sources', { name: 'Radio ad' });
    expectError(dup, 409, 'duplicate');
    expect(detailPaths(dup)).to.deep.equal(['/body/name']);
    await create(f, 'referral-partners', { name: 'Northside Dental' });
    expectError(await post('referral-partners', { name: 'Northside Dental' }), 409, 'duplicate');
  });

  it('requires base_version on update and refuses a stale one', async () => {
    const partner = await create(f, 'referral-partners', { name: 'City Spa' });
    expect(detailPaths(await patch(`referral-partners/${partner.id}`, { phone: '555-0100' }))).to.deep.equal(['/body/base_version']);
    const ok = await patch(`referral-partners/${partner.id}`, { base_version: 1, phone: '555-0100', partner_type: 'business' });
    expect(ok.status).to.equal(200);
    expect(ok.body.data).to.include({ phone: '555-0100', partner_type: 'business', version: 2 });
    expectError(await patch(`referral-partners/${partner.id}`, { base_version: 1, phone: '555-0199' }), 409, 'version_conflict');
  });

  it('archives (optionally with base_version) and restores; archived entries leave the list', async () => {
    const source = await create(f, 'referral-sources', { name: 'Health fair', channel: 'event' });
    expectError(await f.s.api('POST', `${f.base}/referral-sources/${source.id}/archive?base_version=9`, { key: f.key }), 409, 'version_conflict');
    const archived = await f.s.api('POST', `${f.base}/referral-sources/${source.id}/archive`, { key: f.key });
    expect(archived.status).to.equal(200);
    expect(ids((await list(f, 'referral-sources')).data)).to.not.include(source.id);
    expect(ids((await list(f, 'referral-sources?include_archived=true')).data)).to.include(source.id);
    expect((await f.s.api('POST', `${f.base}/referral-sources/${source.id}/restore`, { key: f.key })).status).to.equal(200);
    expect(ids((await list(f, 'referral-sources?channel=event')).data)).to.deep.equal([source.id]);
  });

  it('is served under the catalogs scope', async () => {
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['catalogs:read'], rateLimit: 100000 })).key;
    const patientsOnly = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:write'], rateLimit: 100000 })).key;
    for (const path of ['referral-sources', 'referral-partners']) {
      expect((await f.s.api('GET', `${f.base}/${path}`, { key: reader })).status, path).to.equal(200);
      expectError(await post(path, { name: `Read-only ${path}` }, reader), 403, 'forbidden');
      expectError(await f.s.api('GET', `${f.base}/${path}`, { key: patientsOnly }), 403, 'forbidden');
    }
  });
});
