import { expect } from 'chai';
import { create, createPatient, detailPaths, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Seed 001 §1.1 Src#18, §2.4 LocationCountsOut, §3.18: patient counts by location.

describe('Patients: counts by location (GET /patients/counts/by-location)', () => {
  let f: Fixture;
  let north: Row;
  let south: Row;
  let closed: Row;
  let gone: Row;

  before(async () => {
    f = await setupApi();
    north = await create(f, 'locations', { name: 'North' });
    south = await create(f, 'locations', { name: 'South' });
    closed = await create(f, 'locations', { name: 'Closed', active: false });
    gone = await create(f, 'locations', { name: 'Gone' });
    const at = (location_id: string | null, date_first_visit: string, status = 'active') =>
      createPatient(f, { first_name: 'P', last_name: 'Count', location_id, date_first_visit, status });
    await at(north.id, '2024-01-01');
    await at(north.id, '2024-06-30');
    await at(north.id, '2024-07-01'); // on date_to: excluded by the exclusive bound
    await at(south.id, '2024-03-15');
    await at(south.id, '2024-03-16', 'prospective');
    await at(null, '2024-02-01');
    await at(closed.id, '2024-02-01');
    await at(gone.id, '2024-02-01');
    await at(north.id, '2023-12-31'); // before date_from
    const archived = await at(north.id, '2024-02-02');
    expect((await f.s.api('POST', `${f.base}/patients/${archived.id}/archive`, { key: f.key })).status).to.equal(200);
    expect((await f.s.api('POST', `${f.base}/locations/${gone.id}/archive`, { key: f.key })).status).to.equal(200);
  });

  after(async () => {
    await f.s.close();
  });

  const counts = (query: string, key = f.key) => f.s.api('GET', `${f.base}/patients/counts/by-location?${query}`, { key });

  it('counts active patients per active location in [date_from, date_to), echoing the filters', async () => {
    const res = await counts('date_from=2024-01-01&date_to=2024-07-01');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data).to.deep.equal({
      date_from: '2024-01-01',
      date_to: '2024-07-01',
      status_set: ['active'],
      group_by: 'location',
      items: [
        { location: { id: north.id, name: 'North' }, count: 2 },
        { location: { id: south.id, name: 'South' }, count: 1 },
      ],
      total: 6,
      // No location, an inactive location, an archived location.
      excluded_count: 3,
    });
  });

  it('takes status_set repeated, and works without date bounds', async () => {
    const res = await counts('date_from=2024-01-01&date_to=2024-07-01&status_set=active&status_set=prospective');
    expect(res.body.data.status_set).to.deep.equal(['active', 'prospective']);
    expect(res.body.data.items.find((i: Row) => i.location.id === south.id).count).to.equal(2);
    const one = await counts('status_set=prospective');
    expect(one.body.data).to.include({ date_from: null, date_to: null, total: 1, excluded_count: 0 });
    const all = await counts('');
    expect(all.body.data.total).to.equal(8);
  });

  it('refuses malformed dates, an unknown status, date_to not after date_from and unknown parameters', async () => {
    for (const [query, path] of [
      ['date_from=2024-13-01', '/query/date_from'],
      ['date_to=yesterday', '/query/date_to'],
      ['status_set=active&status_set=sleeping', '/query/status_set/1'],
      ['date_from=2024-05-01&date_to=2024-05-01', '/query/date_to'],
      ['location_id=x', '/query/location_id'],
    ]) {
      const res = await counts(query);
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res), query).to.deep.equal([path]);
    }
  });

  it('needs the patients read scope; location names only with locations read', async () => {
    expectError(await counts('', (await f.s.createKey({ orgs: [f.org.slug], scopes: ['locations:read'], rateLimit: 1000 })).key), 403, 'forbidden');
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'], rateLimit: 1000 })).key;
    const res = await counts('date_from=2024-01-01&date_to=2024-07-01', reader);
    expect(res.body.data.items.map((i: Row) => i.location)).to.deep.equal([{ id: north.id, name: null }, { id: south.id, name: null }]);
  });
});
