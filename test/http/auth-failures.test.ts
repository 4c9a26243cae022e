import http from 'node:http';
import { expect } from 'chai';
import { loadConfig, ConfigError } from '../../app/core/config.js';
import { expectError } from '../support/api-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LIMIT = 5;
const ORG = 'guarded-clinic';
const P = `/api/v1/${ORG}/patients`;
const badKey = (i: number) => `sk_live_${'x'.repeat(32)}${String(i).padStart(8, '0')}`;

/** A GET from another loopback address, so that the server sees another client IP. */
function getFrom(localAddress: string, url: string, authorization: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { localAddress, headers: { authorization } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('failed authentications per IP', () => {
  let s: TestServer;
  let validKey: string;

  before(async () => {
    s = await startTestServer({ env: { AUTH_FAILURES_PER_MINUTE: String(LIMIT) } });
    await s.createOrg(ORG);
    validKey = (await s.createKey({ orgs: [ORG], scopes: ['patients:read'], rateLimit: 1000 })).key;
  });

  after(async () => {
    await s.close();
  });

  it(`answers the ${LIMIT + 1}th invalid credential in a minute with 429 and Retry-After`, async () => {
    for (let i = 0; i < LIMIT; i++) expectError(await s.api('GET', P, { key: badKey(i) }), 401, 'unauthorized');
    const res = await s.api('GET', P, { key: badKey(LIMIT) });
    expectError(res, 429, 'rate_limit_exceeded');
    expect(Number(res.headers.get('retry-after'))).to.be.within(1, 60);
    // Any kind of bad credential stays refused: a malformed JWT, a missing header, the token exchange.
    expectError(await s.api('GET', P, { key: 'not-a-jwt' }), 429, 'rate_limit_exceeded');
    expectError(await s.api('GET', P), 429, 'rate_limit_exceeded');
    expectError(await s.api('POST', '/api/v1/auth/token', { body: { apiKey: badKey(99) } }), 429, 'rate_limit_exceeded');
  });

  it('still lets a valid key through from the blocked IP (only failures are refused)', async () => {
    const res = await s.api('GET', P, { key: validKey });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const token = await s.api('POST', '/api/v1/auth/token', { body: { apiKey: validKey } });
    expect(token.status, JSON.stringify(token.body)).to.equal(200);
  });

  it('does not count against another client IP', async () => {
    const res = await getFrom('127.0.0.2', `${s.url}${P}`, `Bearer ${badKey(1)}`);
    expect(res.status, JSON.stringify(res.body)).to.equal(401);
    expect(res.body.error).to.equal('unauthorized');
  });

  it('reads AUTH_FAILURES_PER_MINUTE (default 20) and validates it', () => {
    expect(loadConfig({}).authFailuresPerMinute).to.equal(20);
    expect(loadConfig({ AUTH_FAILURES_PER_MINUTE: '7' }).authFailuresPerMinute).to.equal(7);
    expect(() => loadConfig({ AUTH_FAILURES_PER_MINUTE: '0' })).to.throw(ConfigError, /AUTH_FAILURES_PER_MINUTE/);
  });
});
