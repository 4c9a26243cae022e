import { expect } from 'chai';
import { expectError } from '../support/api-fixtures.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ERROR = 50;

describe('error logs carry no patient data', () => {
  let s: TestServer;
  let logs: ReturnType<typeof captureLogs>;
  let key: string;
  let base: string;

  before(async () => {
    logs = captureLogs('info');
    s = await startTestServer({ logger: logs.logger });
    const org = await s.createOrg();
    key = (await s.createKey({ orgs: [org.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
    base = `/api/v1/${org.slug}`;
  });

  after(async () => {
    await s.close();
  });

  it('logs a failed write with its code, route template, request id and error class, not the SQL or the row', async () => {
    // Make the database itself refuse the row: SQLite's error carries the statement with its
    // values, PostgreSQL's `detail` the failing row.
    const knex = s.rt.db.knex;
    if (s.rt.db.dialect.name === 'sqlite') {
      await knex.raw("create trigger refuse_long_names before insert on patients when length(new.last_name) >= 9 begin select raise(abort, 'refused by the test'); end");
    } else {
      await knex.raw('alter table patients add constraint refuse_long_names check (length(last_name) < 9)');
    }
    const res = await s.api('POST', `${base}/patients`, { key, body: { first_name: 'Zebedee', last_name: 'Quuxworth', email: 'zebedee@example.org' } });
    expectError(res, 500, 'internal_error');
    const requestId = res.body.request_id;

    const text = logs.lines().join('\n');
    for (const value of ['Quuxworth', 'Zebedee', 'zebedee@example.org']) expect(text, `${value} in the logs`).not.to.contain(value);

    const failure = logs.entries().find((e) => e.level === ERROR && e.request_id === requestId);
    expect(failure, text).to.not.equal(undefined);
    expect(failure).to.include({ error: 'internal_error', route: '/api/v1/:org/patients' });
    expect(failure!.err.class).to.be.a('string').and.not.equal('');
    if (s.rt.db.dialect.name === 'postgres') expect(failure!.err).to.include({ code: '23514', table: 'patients', constraint: 'refuse_long_names' });
    expect(JSON.stringify(failure)).not.to.match(/insert into|Failing row/i);
    const access = logs.entries().find((e) => e.msg === 'request' && e.request_id === requestId);
    expect(access).to.include({ status: 500, route: '/api/v1/:org/patients' });
  });

  it('logs a failed read-audit flush without the statement', async () => {
    const created = await s.api('POST', `${base}/patients`, { key, body: { first_name: 'Ann', last_name: 'Lee' } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    await s.rt.audit.flush();
    await s.rt.db.knex.raw('drop table audit_events');
    const before = logs.lines().length;
    expect((await s.api('GET', `${base}/patients/${created.body.data.id}`, { key })).status).to.equal(200);
    await s.rt.audit.flush();
    const lost = logs.entries().slice(before).find((e) => e.msg === 'could not write read-audit events');
    expect(lost, logs.lines().slice(before).join('\n')).to.not.equal(undefined);
    expect(lost!.err.class).to.be.a('string').and.not.equal('');
    expect(JSON.stringify(lost)).not.to.match(/insert into/i);
    expect(JSON.stringify(lost)).not.to.contain(created.body.data.id);
  });
});
