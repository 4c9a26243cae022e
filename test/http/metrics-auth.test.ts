import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../app/core/config.js';
import { expectError } from '../support/api-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const TOKEN = 'metrics-token-for-the-tests-0123';

describe('/metrics access', () => {
  describe('with METRICS_TOKEN', () => {
    let s: TestServer;

    before(async () => {
      s = await startTestServer({ env: { METRICS_TOKEN: TOKEN } });
    });

    after(async () => {
      await s.close();
    });

    for (const [name, authorization] of [
      ['no Authorization header', undefined],
      ['a wrong token', `Bearer ${TOKEN.slice(0, -1)}x`],
      ['a longer token', `Bearer ${TOKEN}x`],
      ['the token without Bearer', TOKEN],
    ] as const) {
      it(`answers ${name} with 401 unauthorized`, async () => {
        const res = await s.api('GET', '/metrics', { headers: authorization ? { authorization } : {} });
        expectError(res, 401, 'unauthorized');
        expect(res.headers.get('www-authenticate')).to.equal('Bearer');
        expect(JSON.stringify(res.body)).not.to.contain('http_requests_total');
      });
    }

    it('serves the metrics to Bearer <METRICS_TOKEN>', async () => {
      const res = await s.api('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).to.equal(200);
      expect(res.body).to.contain('http_requests_total');
    });
  });

  describe('without METRICS_TOKEN', () => {
    let s: TestServer;

    before(async () => {
      s = await startTestServer({ env: { METRICS_TOKEN: '' } });
    });

    after(async () => {
      await s.close();
    });

    it('serves the metrics to anyone, as before', async () => {
      const res = await s.api('GET', '/metrics');
      expect(res.status).to.equal(200);
      expect(res.body).to.contain('process_cpu_user_seconds_total');
    });
  });

  it('refuses a METRICS_TOKEN shorter than 16 characters at start', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).to.throw(ConfigError, /METRICS_TOKEN/);
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken).to.equal(TOKEN);
    expect(loadConfig({}).metricsToken).to.equal(undefined);
  });
});
