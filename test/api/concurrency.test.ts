import { expect } from 'chai';
import { create, createPatient, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

describe('Concurrent updates', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  it('lets exactly one of 8 concurrent PATCHes from the same base_version win', async () => {
    const p = await createPatient(f, { first_name: 'Race', last_name: 'Condition' });
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => f.s.api('PATCH', `${f.base}/patients/${p.id}`, { key: f.key, body: { base_version: 1, city: `City ${i}` } })),
    );
    const winners = responses.filter((r) => r.status === 200);
    const losers = responses.filter((r) => r.status !== 200);
    expect(winners, JSON.stringify(responses.map((r) => r.status))).to.have.length(1);
    expect(losers).to.have.length(7);
    for (const r of losers) {
      expectError(r, 409, 'version_conflict');
      expect(r.body.details[0].current_version).to.equal(2);
    }
    const stored = await f.s.api('GET', `${f.base}/patients/${p.id}`, { key: f.key });
    expect(stored.body.data.version).to.equal(2);
    expect(stored.body.data.city).to.equal(winners[0].body.data.city);
  });

  it('lets exactly one of 8 concurrent If-Match updates win', async () => {
    const task = await create(f, 'tasks', { title: 'Contended' });
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => f.s.api('PUT', `${f.base}/tasks/${task.id}`, { key: f.key, body: { title: `Writer ${i}` }, headers: { 'If-Match': 'W/"1"' } })),
    );
    expect(responses.filter((r) => r.status === 200)).to.have.length(1);
    for (const r of responses.filter((x) => x.status !== 200)) expectError(r, 409, 'version_conflict');
    const stored = await f.s.api('GET', `${f.base}/tasks/${task.id}`, { key: f.key });
    expect(stored.body.data.version).to.equal(2);
  });

  it('applies every one of concurrent updates without a base version, each with its own version', async () => {
    const task = await create(f, 'tasks', { title: 'Serial' });
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => f.s.api('PATCH', `${f.base}/tasks/${task.id}`, { key: f.key, body: { title: `Update ${i}` } })),
    );
    expect(responses.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200, 200]);
    expect(responses.map((r) => r.body.data.version).sort()).to.deep.equal([2, 3, 4, 5, 6, 7]);
    const stored = await f.s.api('GET', `${f.base}/tasks/${task.id}`, { key: f.key });
    expect(stored.body.data.version).to.equal(7);
  });

  it('lets exactly one of concurrent creates with one chart_number succeed', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: `Dup${i}`, last_name: 'Chart', chart_number: 'RACE-1' } })),
    );
    expect(responses.filter((r) => r.status === 201)).to.have.length(1);
    for (const r of responses.filter((x) => x.status !== 201)) expectError(r, 409, 'duplicate');
  });
});
