import { expect } from 'chai';
import knexPkg from 'knex';
import { startTestServer, type TestServer } from '../support/server.js';

const { knex } = knexPkg;

// Totals and pages are cached per write generation of the table: these prove they stay exact.
describe('cached totals and pages stay exact', () => {
  let s: TestServer;
  let key: string;
  const P = '/api/v1/cache-clinic/patients';
  const list = async (query: string) => (await s.api('GET', `${P}?${query}`, { key })).body;

  before(async () => {
    // Patient status is plain data here (fixtures in every status): the lifecycle plugin that owns its
    // changes (plugins/patient-chart) is left out; test/plugins/patient-chart.test.ts covers it.
    s = await startTestServer({ withoutPlugins: ['patient-chart'] });
    await s.createOrg('cache-clinic');
    key = (await s.createKey({ orgs: ['cache-clinic'], scopes: ['*'], rateLimit: 100000 })).key;
    for (const last of ['Avery', 'Baker', 'Chen']) {
      const r = await s.api('POST', P, { key, body: { first_name: 'Pat', last_name: last } });
      expect(r.status).to.equal(201);
    }
  });
  after(() => s.close());

  it('reflects a create, an update and an archive made through the API at once', async () => {
    const before = await list('status=active&sort=last_name');
    expect(before.total_count).to.equal(3);
    expect((await list('status=active&sort=last_name')).data.map((p: any) => p.last_name)).to.deep.equal(['Avery', 'Baker', 'Chen']);

    await s.api('POST', P, { key, body: { first_name: 'Pat', last_name: 'Abbott' } });
    const afterCreate = await list('status=active&sort=last_name');
    expect(afterCreate.total_count).to.equal(4);
    expect(afterCreate.data[0].last_name).to.equal('Abbott');

    const chen = afterCreate.data.find((p: any) => p.last_name === 'Chen');
    await s.api('PATCH', `${P}/${chen.id}`, { key, body: { base_version: chen.version, status: 'inactive' } });
    const afterUpdate = await list('status=active&sort=last_name');
    expect(afterUpdate.total_count).to.equal(3);
    expect(afterUpdate.data.map((p: any) => p.last_name)).to.not.include('Chen');

    await s.api('DELETE', `${P}/${afterUpdate.data[0].id}`, { key });
    const afterArchive = await list('status=active&sort=last_name');
    expect(afterArchive.total_count).to.equal(2);
    expect((await list('search=abb')).total_count).to.equal(0);
  });

  it('shows each write\'s audit event in an audit list repeated with the same query', async () => {
    const A = '/api/v1/cache-clinic/audit-events?resource=patient&action=update';
    const before = (await s.api('GET', A, { key })).body;
    const target = (await list('sort=last_name')).data[0];
    await s.api('PATCH', `${P}/${target.id}`, { key, body: { base_version: target.version, city: 'Lyon' } });
    const after = (await s.api('GET', A, { key })).body;
    expect(after.total_count).to.equal(before.total_count + 1);
    expect(after.data[0].resource_id).to.equal(target.id);
  });

  it('reflects a write committed by another connection to the same SQLite file', async function () {
    const database = s.rt.config.database;
    // PostgreSQL has no equivalent of SQLite's data_version to notice a write made behind the
    // engine's back; there every write goes through the engine, which bumps the generation.
    if (database.kind !== 'sqlite') this.skip();
    const first = await list('sort=last_name');
    const target = first.data[0];
    const other = knex({ client: 'better-sqlite3', connection: { filename: database.file }, useNullAsDefault: true });
    try {
      await other('patients').where({ id: target.id }).update({ last_name: 'Zimmer' });
    } finally {
      await other.destroy();
    }
    const again = await list('sort=last_name');
    expect(again.data.map((p: any) => p.last_name)).to.include('Zimmer');
    expect(again.data[again.data.length - 1].id).to.equal(target.id);
  });

  it('serves a cached page to each caller with only the fields it may see and asked for, and never across organizations', async () => {
    await s.createOrg('cache-other');
    const plain = (await s.createKey({ orgs: ['cache-clinic'], scopes: ['patients:read'], rateLimit: 100000 })).key;
    const other = (await s.createKey({ orgs: ['cache-other'], scopes: ['*'], rateLimit: 100000 })).key;
    const first = await s.api('PATCH', `${P}/${(await list('sort=last_name')).data[0].id}`, {
      key, body: { base_version: (await list('sort=last_name')).data[0].version, social_security_number: '123-45-6789' },
    });
    expect(first.status).to.equal(200);
    const query = 'sort=last_name&limit=5';
    const sensitive = await list(query); // fills the cache with this caller's view
    expect(sensitive.data.some((p: any) => p.social_security_number === '123-45-6789')).to.equal(true);
    const again = await s.api('GET', `${P}?${query}`, { key: plain });
    expect(again.status).to.equal(200);
    expect(again.body.data.map((p: any) => p.id)).to.deep.equal(sensitive.data.map((p: any) => p.id));
    expect(again.body.data.every((p: any) => !('social_security_number' in p)), 'no sensitive field without its scope').to.equal(true);
    const narrow = (await s.api('GET', `${P}?${query}&fields=id,last_name`, { key })).body;
    expect(narrow.data.map((p: any) => Object.keys(p).sort())).to.deep.equal(narrow.data.map(() => ['id', 'last_name']));
    expect(narrow.total_count).to.equal(sensitive.total_count);
    const elsewhere = (await s.api('GET', `/api/v1/cache-other/patients?${query}`, { key: other })).body;
    expect(elsewhere.total_count).to.equal(0);
    expect(elsewhere.data).to.deep.equal([]);
  });
});
