import { expect } from 'chai';
import { MISSING_ID, create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

describe('API envelopes', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  describe('single records', () => {
    it('answers a create with 201, a Location of the new record and {data}', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Ada', last_name: 'Lovelace' } });
      expect(res.status).to.equal(201);
      expect(Object.keys(res.body)).to.deep.equal(['data']);
      const data = res.body.data;
      expect(data.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(data).to.include({ first_name: 'Ada', last_name: 'Lovelace', version: 1, status: 'active' });
      expect(data.created_at).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      expect(res.headers.get('location')).to.equal(`${f.base}/patients/${data.id}`);

      const got = await f.s.api('GET', res.headers.get('location')!, { key: f.key });
      expect(got.status).to.equal(200);
      expect(Object.keys(got.body)).to.deep.equal(['data']);
      expect(got.body.data.id).to.equal(data.id);
      expect(got.body.data.first_name).to.equal('Ada');
    });

    it('answers a malformed id with 400 invalid_id on every item route', async () => {
      for (const [method, suffix] of [['GET', ''], ['PATCH', ''], ['PUT', ''], ['DELETE', ''], ['POST', '/archive'], ['POST', '/restore']]) {
        const res = await f.s.api(method, `${f.base}/patients/not-a-uuid${suffix}`, { key: f.key, body: method.startsWith('P') && !suffix ? { base_version: 1 } : undefined });
        expectError(res, 400, 'invalid_id');
      }
      expectError(await f.s.api('GET', `${f.base}/tasks/12345`, { key: f.key }), 400, 'invalid_id');
    });

    it('answers an unknown id with 404 not_found naming the resource', async () => {
      const res = await f.s.api('GET', `${f.base}/patients/${MISSING_ID}`, { key: f.key });
      expectError(res, 404, 'not_found');
      expect(res.body.message).to.equal('Patient not found');
      expectError(await f.s.api('PATCH', `${f.base}/tasks/${MISSING_ID}`, { key: f.key, body: { title: 'x' } }), 404, 'not_found');
      expectError(await f.s.api('DELETE', `${f.base}/tasks/${MISSING_ID}`, { key: f.key }), 404, 'not_found');
    });
  });

  describe('lists', () => {
    let f2: Fixture;
    let all: string[];

    before(async () => {
      f2 = await setupApi();
      for (let i = 0; i < 51; i++) await create(f2, 'tasks', { title: `Task ${String(i).padStart(2, '0')}` });
      const full = await list(f2, 'tasks?sort=title&limit=100');
      all = ids(full.data);
      expect(all).to.have.length(51);
    });

    after(async () => {
      await f2.s.close();
    });

    it('returns data, total_count, limit, offset and page_info, with a default limit of 50', async () => {
      const body = await list(f2, 'tasks?sort=title');
      expect(Object.keys(body).sort()).to.deep.equal(['data', 'limit', 'offset', 'page_info', 'total_count']);
      expect(body.data).to.have.length(50);
      expect(body.total_count).to.equal(51);
      expect(body.limit).to.equal(50);
      expect(body.offset).to.equal(0);
      expect(body.page_info.has_next_page).to.equal(true);
      expect(body.page_info.end_cursor).to.be.a('string').and.not.equal('');
      expect(ids(body.data)).to.deep.equal(all.slice(0, 50));
    });

    it('pages by limit and offset', async () => {
      const body = await list(f2, 'tasks?sort=title&limit=10&offset=45');
      expect(ids(body.data)).to.deep.equal(all.slice(45, 51));
      expect(body).to.include({ total_count: 51, limit: 10, offset: 45 });
      expect(body.page_info.has_next_page).to.equal(false);
    });

    it('accepts limit=100 and rejects limit=101 with validation_error instead of clamping', async () => {
      const ok = await list(f2, 'tasks?limit=100');
      expect(ok.limit).to.equal(100);
      expect(ok.data).to.have.length(51);
      const res = await f2.s.api('GET', `${f2.base}/tasks?limit=101`, { key: f2.key });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/query/limit']);
      expectError(await f2.s.api('GET', `${f2.base}/tasks?limit=0`, { key: f2.key }), 400, 'validation_error');
      expectError(await f2.s.api('GET', `${f2.base}/tasks?offset=-1`, { key: f2.key }), 400, 'validation_error');
      expectError(await f2.s.api('GET', `${f2.base}/tasks?limit=ten`, { key: f2.key }), 400, 'validation_error');
    });

    it('accepts 1-based page and page_size', async () => {
      const p1 = await list(f2, 'tasks?sort=title&page=1&page_size=20');
      expect(ids(p1.data)).to.deep.equal(all.slice(0, 20));
      expect(p1).to.include({ limit: 20, offset: 0, total_count: 51 });
      const p3 = await list(f2, 'tasks?sort=title&page=3&page_size=20');
      expect(ids(p3.data)).to.deep.equal(all.slice(40, 51));
      expect(p3).to.include({ limit: 20, offset: 40 });
      expect(p3.page_info.has_next_page).to.equal(false);
      const defaultSize = await list(f2, 'tasks?sort=title&page=2');
      expect(ids(defaultSize.data)).to.deep.equal(all.slice(50));
      expect(defaultSize.offset).to.equal(50);
      expectError(await f2.s.api('GET', `${f2.base}/tasks?page=0`, { key: f2.key }), 400, 'validation_error');
      expectError(await f2.s.api('GET', `${f2.base}/tasks?page_size=101`, { key: f2.key }), 400, 'validation_error');
    });

    it('returns an empty page past the end', async () => {
      const body = await list(f2, 'tasks?offset=60');
      expect(body.data).to.deep.equal([]);
      expect(body.total_count).to.equal(51);
      expect(body.page_info).to.deep.equal({ end_cursor: null, has_next_page: false });
    });
  });

  describe('errors', () => {
    it('uses the error envelope with a request id that matches X-Request-Id', async () => {
      const res = await f.s.api('GET', `${f.base}/patients/${MISSING_ID}`, { key: f.key });
      expectError(res, 404, 'not_found');
      const ok = await f.s.api('GET', `${f.base}/patients`, { key: f.key });
      expect(ok.headers.get('x-request-id')).to.be.a('string').and.not.equal(res.body.request_id);
    });

    it('echoes a well-formed incoming X-Request-Id', async () => {
      const res = await f.s.api('GET', `${f.base}/patients/${MISSING_ID}`, { key: f.key, headers: { 'X-Request-Id': 'trace-abc.123' } });
      expectError(res, 404, 'not_found');
      expect(res.body.request_id).to.equal('trace-abc.123');
    });

    it('answers an unknown route with a 404 envelope', async () => {
      expectError(await f.s.api('GET', '/api/v1/no/such/route/here', { key: f.key }), 404, 'not_found');
      expectError(await f.s.api('GET', `${f.base}/no-such-resource`, { key: f.key }), 404, 'not_found');
      expectError(await f.s.api('GET', '/nothing-here'), 404, 'not_found');
      expectError(await f.s.api('GET', `/api/v1/org-that-does-not-exist/patients`, { key: f.key }), 404, 'not_found');
    });

    it('answers a missing key with 401 unauthorized in the envelope', async () => {
      expectError(await f.s.api('GET', `${f.base}/patients`), 401, 'unauthorized');
    });

    it('rejects a malformed JSON body with 400 validation_error', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, rawBody: '{"first_name": "Ada",', headers: { 'content-type': 'application/json' } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body']);
    });

    it('rejects a JSON body that is not an object', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: [{ first_name: 'Ada', last_name: 'L' }] });
      expectError(res, 400, 'validation_error');
    });

    it('rejects a body over 1mb with 413 payload_too_large and stores nothing', async () => {
      const before = (await list(f, 'patients?limit=1')).total_count;
      const big = JSON.stringify({ first_name: 'Big', last_name: 'Body', medical_summary: 'x'.repeat(1024 * 1024 + 10) });
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, rawBody: big, headers: { 'content-type': 'application/json' } });
      expectError(res, 413, 'payload_too_large');
      expect((await list(f, 'patients?limit=1')).total_count).to.equal(before);
    });

    it('accepts a body just under the limit', async () => {
      const p = await createPatient(f, { first_name: 'Large', last_name: 'Note', medical_summary: 'y'.repeat(900 * 1024) });
      expect(p.medical_summary).to.have.length(900 * 1024);
    });
  });
});
