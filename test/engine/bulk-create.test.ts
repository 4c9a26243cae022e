import { expect } from 'chai';
import { systemContext } from '../../app/auth/system-context.js';
import { definePlugin } from '../../app/core/plugin.js';
import { bulkCreateRecords } from '../../app/operations/bulk-create.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('bulk create', () => {
  let s: TestServer;
  before(async () => {
    // A subscriber to task.created: the outbox stores the events someone is to receive.
    s = await startTestServer({ plugins: [definePlugin({ name: 'task-listener', events: { 'task.created': () => {} } })] });
  });
  after(async () => {
    await s?.close();
  });

  it('stores a thousand rows of a narrow resource in one call, with their audit rows and events', async () => {
    // A narrow table fits thousands of rows in the parameter limit, but SQLite also caps a
    // multi-row INSERT at 500 terms: the chunks must respect both.
    const org = await s.createOrg();
    const ctx = systemContext(s.rt, org);
    const items = Array.from({ length: 1200 }, (_, i) => ({ title: `Call back #${i}` }));
    const result = await bulkCreateRecords(s.rt, { resource: 'task', ctx, items, chunkSize: 1000 });
    expect(result).to.include({ total: 1200, created: 1200, failed: 0 });
    const ids = result.results.map((r) => r.id!);
    expect(Number((await s.rt.db.knex('tasks').where('org_id', org.id).count({ n: '*' }).first())!.n)).to.equal(1200);
    const audited = await s.rt.db.knex('audit_events').where({ resource: 'task', action: 'create' }).whereIn('resource_id', ids.slice(0, 500)).count({ n: '*' }).first();
    expect(Number(audited!.n)).to.equal(500);
    const events = await s.rt.db.knex('outbox_events').where({ type: 'task.created' }).whereIn('resource_id', ids.slice(0, 500)).count({ n: '*' }).first();
    expect(Number(events!.n)).to.equal(500);
  });

  it('brings PostgreSQL\'s planner statistics up to date after a bulk create of a thousand rows or more', async function () {
    if (s.rt.db.dialect.name !== 'postgres') this.skip(); // SQLite's planner needs none
    const org = await s.createOrg();
    const ctx = systemContext(s.rt, org);
    const analyzed = async () => (await s.rt.db.knex.raw(`select last_analyze from pg_stat_user_tables where schemaname = current_schema() and relname = 'tasks'`)).rows[0]?.last_analyze ?? null;
    const before = await analyzed();
    await bulkCreateRecords(s.rt, { resource: 'task', ctx, items: Array.from({ length: 999 }, (_, i) => ({ title: `Few #${i}` })) });
    expect(await analyzed(), 'fewer rows: no analyze').to.deep.equal(before);
    await bulkCreateRecords(s.rt, { resource: 'task', ctx, items: Array.from({ length: 1000 }, (_, i) => ({ title: `Many #${i}` })) });
    const after = await analyzed();
    expect(after).to.not.equal(null);
    if (before) expect(new Date(after).getTime()).to.be.greaterThan(new Date(before).getTime());
  });

  it('reports a row that is not an object by its index, and keeps the others', async () => {
    const org = await s.createOrg();
    const ctx = systemContext(s.rt, org);
    const result = await bulkCreateRecords(s.rt, { resource: 'task', ctx, items: [{ title: 'Good' }, null as never, ['x'] as never, { title: 'Also good' }] });
    expect(result).to.include({ total: 4, created: 2, failed: 2 });
    expect(result.results[1].error?.details).to.deep.equal([{ path: '/body/1', message: 'must be a JSON object' }]);
  });
});
