import { expect } from 'chai';
import { createPatient, detailPaths, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Seed 001 §1.1 Src#20, §2.4 PatientSearchResult, §3.4: the patient typeahead.

describe('Patients: typeahead search (GET /patients/search)', () => {
  let f: Fixture;
  const p: Record<string, Row> = {};

  before(async () => {
    f = await setupApi();
    p.ada = await createPatient(f, { first_name: 'Ada', last_name: 'Lovelace', chart_number: 'CH-1001', date_of_birth: '1815-12-10', email: 'ada@example.com', social_security_number: '123-45-6789' });
    p.alan = await createPatient(f, { first_name: 'Alan', last_name: 'Turing', preferred_name: 'Prof', chart_number: 'CH-1002' });
    p.grace = await createPatient(f, { first_name: 'Grace', last_name: 'Hopper', chart_number: 'X-77', health_card_number: 'ADA999' });
    p.adele = await createPatient(f, { first_name: 'Adele', last_name: 'Adkins' });
    p.gone = await createPatient(f, { first_name: 'Adam', last_name: 'Archived' });
    expect((await f.s.api('POST', `${f.base}/patients/${p.gone.id}/archive`, { key: f.key })).status).to.equal(200);
  });

  after(async () => {
    await f.s.close();
  });

  const search = async (query: string, key = f.key) => f.s.api('GET', `${f.base}/patients/search?${query}`, { key });
  const names = (res: { body: Row }) => res.body.data.items.map((i: Row) => i.first_name);

  it('matches the start of first name, last name, preferred name or chart number, case-insensitively, sorted by last then first name', async () => {
    const res = await search('q=ad');
    expect(res.status).to.equal(200);
    // Adele Adkins (first and last), Ada Lovelace (first); not Grace (only her health card starts with ADA), not archived Adam.
    expect(names(res)).to.deep.equal(['Adele', 'Ada']);
    expect(res.body.data.total).to.equal(2);
    expect(names(await search('q=TURING'))).to.deep.equal(['Alan']);
    expect(names(await search('q=prof'))).to.deep.equal(['Alan']);
    expect(names(await search('q=ch-100'))).to.deep.equal(['Ada', 'Alan']);
    expect(names(await search('q=x-7'))).to.deep.equal(['Grace']);
    // A prefix, not a substring.
    expect(names(await search('q=ring'))).to.deep.equal([]);
  });

  it('needs every word of q to match some field', async () => {
    expect(names(await search('q=ada%20love'))).to.deep.equal(['Ada']);
    expect(names(await search('q=ada%20turing'))).to.deep.equal([]);
  });

  it('answers lightweight items without sensitive or other fields', async () => {
    const res = await search('q=lovelace');
    expect(res.body.data.items).to.have.length(1);
    expect(res.body.data.items[0]).to.deep.equal({
      id: p.ada.id, first_name: 'Ada', last_name: 'Lovelace', preferred_name: null, date_of_birth: '1815-12-10',
      chart_number: 'CH-1001', status: 'active', mobile_phone: null, email: 'ada@example.com',
    });
  });

  it('returns nothing for an empty, blank or wildcard-only q, and when q is absent', async () => {
    for (const q of ['q=', 'q=%20%20', 'q=%25%25', '']) {
      const res = await search(q);
      expect(res.status, q).to.equal(200);
      expect(res.body.data, q).to.deep.equal({ items: [], total: 0 });
    }
  });

  it('limits the items (default 20, 1 to 50) while total counts every match', async () => {
    const res = await search('q=a&limit=1');
    expect(res.body.data.items).to.have.length(1);
    expect(res.body.data.total).to.equal(3);
    for (let i = 0; i < 21; i++) await createPatient(f, { first_name: `Zed${String(i).padStart(2, '0')}`, last_name: 'Many' });
    const byDefault = await search('q=zed');
    expect(byDefault.body.data.items).to.have.length(20);
    expect(byDefault.body.data.total).to.equal(21);
    for (const bad of ['limit=0', 'limit=51', 'limit=abc']) {
      const r = await search(`q=a&${bad}`);
      expectError(r, 400, 'validation_error');
      expect(detailPaths(r)).to.deep.equal(['/query/limit']);
    }
    expectError(await search('q=a&sort=first_name'), 400, 'validation_error');
    expectError(await search('q=a&q=b'), 400, 'validation_error');
  });

  it('is not read as a patient id, and an id that is no UUID is still invalid_id', async () => {
    expectError(await f.s.api('GET', `${f.base}/patients/searching`, { key: f.key }), 400, 'invalid_id');
  });

  it('needs the patients read scope and audits the read', async () => {
    const other = await f.s.createKey({ orgs: [f.org.slug], scopes: ['tasks:read'], rateLimit: 1000 });
    expectError(await search('q=ada', other.key), 403, 'forbidden');
    const reader = await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'], rateLimit: 1000 });
    const res = await search('q=hopper', reader.key);
    expect(names(res)).to.deep.equal(['Grace']);
    await f.s.rt.audit.flush();
    const audit = await f.s.api('GET', `${f.base}/audit-events?resource=patient&action=list&request_id=${res.headers.get('x-request-id')}`, { key: f.key });
    expect(audit.status, JSON.stringify(audit.body)).to.equal(200);
    expect(audit.body.data).to.have.length(1);
    expect(audit.body.data[0].metadata.ids).to.deep.equal([p.grace.id]);
  });

  it('is documented in OpenAPI beside the counts and the duplicate check, with query parameters and answer schemas', async () => {
    const doc = (await f.s.api('GET', '/api/openapi.json')).body;
    const search = doc.paths['/api/v1/{org}/patients/search'].get;
    expect(search.parameters.map((p: Row) => [p.name, p.in, p.schema.type])).to.deep.equal([['q', 'query', 'string'], ['limit', 'query', 'integer']]);
    expect(search.responses[200].content['application/json'].schema.properties.data.required).to.deep.equal(['items', 'total']);
    const counts = doc.paths['/api/v1/{org}/patients/counts/by-location'].get;
    expect(counts.parameters.find((p: Row) => p.name === 'status_set')).to.include({ in: 'query', style: 'form', explode: true });
    expect(doc.paths['/api/v1/{org}/patients/check-duplicates'].post.requestBody.content['application/json'].schema.required).to.deep.equal(['last_name']);
    expect(doc.paths['/api/v1/{org}/patients/search']).to.not.have.property('post');
  });
});
