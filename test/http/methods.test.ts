import { expect } from 'chai';
import { expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

describe('unknown and unsupported methods', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  for (const method of ['PROPFIND', 'REPORT', 'MKCOL']) {
    it(`answers ${method} on an existing API path with 405 method_not_allowed and Allow`, async () => {
      const res = await f.s.api(method, `${f.base}/patients`, { key: f.key });
      expectError(res, 405, 'method_not_allowed');
      const allow = (res.headers.get('allow') ?? '').split(/,\s*/);
      expect(allow).to.include.members(['GET', 'POST']);
      expect(allow).not.to.include(method);
    });
  }

  it('answers an unknown method on a path that does not exist with 501 in the envelope', async () => {
    const res = await f.s.api('PROPFIND', '/api/v1/no/such/path', { key: f.key });
    expectError(res, 501, 'not_implemented');
    expect(res.headers.get('allow')).to.equal(null);
  });

  it('answers an unknown method on a system path with the envelope', async () => {
    const res = await f.s.api('PROPFIND', '/health');
    expect(res.status).to.be.oneOf([405, 501]);
    expect(res.body.error).to.be.oneOf(['method_not_allowed', 'not_implemented']);
    expect(res.body.request_id).to.equal(res.headers.get('x-request-id'));
  });

  it('still answers a known method on the wrong path with 405 and Allow', async () => {
    const res = await f.s.api('DELETE', `${f.base}/patients`, { key: f.key });
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).to.contain('GET');
  });
});
