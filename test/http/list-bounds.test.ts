import { expect } from 'chai';
import { createPatient, detailPaths, expectError, list, setupApi, type Fixture } from '../support/api-fixtures.js';

// offset + limit and (page - 1) * page_size must stay within a 32-bit signed integer.
const MAX_OFFSET = 2147483647 - 100;
const MAX_PAGE = Math.floor(MAX_OFFSET / 100) + 1;

describe('list paging bounds', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
    await createPatient(f, { first_name: 'Hostile', last_name: 'Paging' });
  });

  after(async () => {
    await f.s.close();
  });

  for (const offset of ['99999999999999999999', '1e20', String(MAX_OFFSET + 1), '9007199254740993', '-1']) {
    it(`answers offset=${offset} with 400 validation_error at /query/offset`, async () => {
      const res = await f.s.api('GET', `${f.base}/patients?offset=${offset}`, { key: f.key });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/query/offset']);
    });
  }

  it('answers a huge offset with a search term with 400, not a database error', async () => {
    const res = await f.s.api('GET', `${f.base}/patients?search=Paging&offset=1e20`, { key: f.key });
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/query/offset']);
  });

  for (const page of ['99999999999999', String(MAX_PAGE + 1), '0']) {
    it(`answers page=${page} with 400 validation_error at /query/page`, async () => {
      const res = await f.s.api('GET', `${f.base}/patients?page=${page}&page_size=100`, { key: f.key });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/query/page']);
    });
  }

  it('serves the largest offset and the largest page (an empty page)', async () => {
    const byOffset = await list(f, `patients?offset=${MAX_OFFSET}&limit=100`);
    expect(byOffset.data).to.deep.equal([]);
    expect(byOffset.offset).to.equal(MAX_OFFSET);
    const byPage = await list(f, `patients?page=${MAX_PAGE}&page_size=100`);
    expect(byPage.data).to.deep.equal([]);
    expect(byPage.offset).to.equal((MAX_PAGE - 1) * 100);
  });

  it('answers an integer filter beyond 32 bits with 400 at its parameter', async () => {
    const res = await f.s.api('GET', `${f.base}/tasks?priority[gte]=99999999999999999999`, { key: f.key });
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/query/priority[gte]']);
  });
});
