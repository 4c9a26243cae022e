import { expect } from 'chai';
import { expectError, list, setupApi, type Fixture } from '../support/api-fixtures.js';

describe('Idempotency-Key', () => {
  let f: Fixture;

  const post = (body: Record<string, unknown>, key: string, apiKey = f.key, resource = 'patients') =>
    f.s.api('POST', `${f.base}/${resource}`, { key: apiKey, body, headers: { 'Idempotency-Key': key } });
  const countByChart = async (chart: string) => (await list(f, `patients?chart_number=${chart}`)).total_count as number;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  it('replays the first response for a repeat with the same body, creating one record', async () => {
    const body = { first_name: 'Idem', last_name: 'Potent', chart_number: 'IDEM-1' };
    const first = await post(body, 'key-1');
    expect(first.status).to.equal(201);
    const second = await post(body, 'key-1');
    expect(second.status).to.equal(201);
    expect(second.body).to.deep.equal(first.body);
    expect(await countByChart('IDEM-1')).to.equal(1);
  });

  it('replays the Location and ETag headers of the first response', async () => {
    const body = { first_name: 'Idem', last_name: 'Headers', chart_number: 'IDEM-8' };
    const first = await post(body, 'key-headers');
    expect(first.headers.get('location')).to.equal(`${f.base}/patients/${first.body.data.id}`);
    expect(first.headers.get('etag')).to.equal('W/"1"');
    const second = await post(body, 'key-headers');
    expect(second.status).to.equal(201);
    expect(second.headers.get('location')).to.equal(first.headers.get('location'));
    expect(second.headers.get('etag')).to.equal('W/"1"');
  });

  it('treats the same body with its keys in another order as a repeat', async () => {
    const first = await post({ first_name: 'Idem', last_name: 'Order', chart_number: 'IDEM-9' }, 'key-order');
    expect(first.status).to.equal(201);
    const reordered = await post({ chart_number: 'IDEM-9', last_name: 'Order', first_name: 'Idem' }, 'key-order');
    expect(reordered.status, JSON.stringify(reordered.body)).to.equal(201);
    expect(reordered.body.data.id).to.equal(first.body.data.id);
    expect(await countByChart('IDEM-9')).to.equal(1);
  });

  it('rejects the same key with a different body with 409 idempotency_conflict', async () => {
    const first = await post({ first_name: 'Idem', last_name: 'Other', chart_number: 'IDEM-2' }, 'key-2');
    expect(first.status).to.equal(201);
    const res = await post({ first_name: 'Idem', last_name: 'Changed', chart_number: 'IDEM-3' }, 'key-2');
    expectError(res, 409, 'idempotency_conflict');
    expect(await countByChart('IDEM-2')).to.equal(1);
    expect(await countByChart('IDEM-3')).to.equal(0);
  });

  it('rejects the same key on another route', async () => {
    const first = await post({ title: 'Idem task' }, 'key-route', f.key, 'tasks');
    expect(first.status).to.equal(201);
    expectError(await post({ title: 'Idem task' }, 'key-route', f.key, 'tickets'), 409, 'idempotency_conflict');
  });

  it('keeps the keys of different API keys apart', async () => {
    const otherKey = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:write'], rateLimit: 100000 })).key;
    const body = { first_name: 'Two', last_name: 'Callers', chart_number: 'IDEM-4' };
    const mine = await post({ ...body, chart_number: 'IDEM-4' }, 'shared-key');
    expect(mine.status).to.equal(201);
    const theirs = await post({ ...body, chart_number: 'IDEM-5' }, 'shared-key', otherKey);
    expect(theirs.status, JSON.stringify(theirs.body)).to.equal(201);
    expect(theirs.body.data.id).to.not.equal(mine.body.data.id);
    const again = await post({ ...body, chart_number: 'IDEM-5' }, 'shared-key', otherKey);
    expect(again.body.data.id).to.equal(theirs.body.data.id);
    expect(await countByChart('IDEM-4')).to.equal(1);
    expect(await countByChart('IDEM-5')).to.equal(1);
  });

  it('creates a new record for each request without a key', async () => {
    const body = { title: 'No key' };
    const a = await f.s.api('POST', `${f.base}/tasks`, { key: f.key, body });
    const b = await f.s.api('POST', `${f.base}/tasks`, { key: f.key, body });
    expect(a.body.data.id).to.not.equal(b.body.data.id);
  });

  it('creates one record when repeats race each other', async () => {
    const body = { first_name: 'Racing', last_name: 'Repeat', chart_number: 'IDEM-6' };
    const responses = await Promise.all(Array.from({ length: 6 }, () => post(body, 'key-race')));
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).to.be.at.least(1);
    expect(new Set(created.map((r) => r.body.data.id)).size).to.equal(1);
    for (const r of responses.filter((x) => x.status !== 201)) expectError(r, 409, 'idempotency_conflict');
    expect(await countByChart('IDEM-6')).to.equal(1);
    const later = await post(body, 'key-race');
    expect(later.status).to.equal(201);
    expect(later.body.data.id).to.equal(created[0].body.data.id);
  });

  it('releases the key of a failed request so that a corrected retry can use it', async () => {
    const bad = await post({ first_name: 'Broken' }, 'key-retry');
    expectError(bad, 400, 'validation_error');
    const retry = await post({ first_name: 'Broken', last_name: 'Fixed', chart_number: 'IDEM-7' }, 'key-retry');
    expect(retry.status).to.equal(201);
    expect(await countByChart('IDEM-7')).to.equal(1);
  });
});
