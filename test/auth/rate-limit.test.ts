import { expect } from 'chai';
import { createHttpApp, type HttpServer } from '../../app/http/server.js';
import { startTestServer, type ApiResponse, type TestServer } from '../support/server.js';

const ORG = 'limit-clinic';
const P = `/api/v1/${ORG}/patients`;

function expectLimited(res: ApiResponse, limit: number) {
  expect(res.status, JSON.stringify(res.body)).to.equal(429);
  expect(res.body.error).to.equal('rate_limit_exceeded');
  expect(res.body.message).to.be.a('string');
  expect(res.body.request_id).to.equal(res.headers.get('x-request-id'));
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).to.be.within(1, 60);
  expect(res.headers.get('ratelimit-limit')).to.equal(String(limit));
  expect(res.headers.get('ratelimit-remaining')).to.equal('0');
  expect(Number(res.headers.get('ratelimit-reset'))).to.be.within(1, 60);
}

describe('rate limits', () => {
  describe('per key', () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer();
      await s.createOrg(ORG);
    });
    after(async () => {
      await s?.close();
    });

    it('answers the 6th request of a 5-per-minute key with 429 and RateLimit headers', async () => {
      const { key } = await s.createKey({ orgs: [ORG], scopes: ['patients:read'], rateLimit: 5 });
      for (let i = 1; i <= 5; i++) {
        const res = await s.api('GET', P, { key });
        expect(res.status, `request ${i}`).to.equal(200);
        expect(res.headers.get('ratelimit-limit')).to.equal('5');
        expect(res.headers.get('ratelimit-remaining')).to.equal(String(5 - i));
        expect(Number(res.headers.get('ratelimit-reset'))).to.be.within(1, 60);
      }
      expectLimited(await s.api('GET', P, { key }), 5);
      // Every kind of request counts against the same budget, and stays refused.
      expectLimited(await s.api('POST', P, { key, body: { first_name: 'A', last_name: 'B' } }), 5);
      expectLimited(await s.api('GET', '/api/v1/kb', { key }), 5);
    });

    it('does not affect another key', async () => {
      const limited = await s.createKey({ orgs: [ORG], scopes: ['patients:read'], rateLimit: 2 });
      const other = await s.createKey({ orgs: [ORG], scopes: ['patients:read'], rateLimit: 2 });
      for (let i = 0; i < 2; i++) expect((await s.api('GET', P, { key: limited.key })).status).to.equal(200);
      expectLimited(await s.api('GET', P, { key: limited.key }), 2);
      const res = await s.api('GET', P, { key: other.key });
      expect(res.status).to.equal(200);
      expect(res.headers.get('ratelimit-remaining')).to.equal('1');
    });

    it('counts a key\'s tokens against the key\'s own limit', async () => {
      const k = await s.createKey({ orgs: [ORG], scopes: ['patients:read'], rateLimit: 3 });
      const { accessToken } = (await s.api('POST', '/api/v1/auth/token', { body: { apiKey: k.key } })).body;
      expect((await s.api('GET', P, { key: k.key })).status).to.equal(200);
      expect((await s.api('GET', P, { key: accessToken })).status).to.equal(200);
      expect((await s.api('GET', P, { key: k.key })).status).to.equal(200);
      expectLimited(await s.api('GET', P, { key: accessToken }), 3);
      expectLimited(await s.api('GET', P, { key: k.key }), 3);
    });

    it('applies the default of 100 per minute to keys without their own limit', async () => {
      const { key } = await s.createKey({ orgs: [ORG], scopes: ['patients:read'] });
      const res = await s.api('GET', P, { key });
      expect(res.headers.get('ratelimit-limit')).to.equal('100');
      expect(res.headers.get('ratelimit-remaining')).to.equal('99');
    });
  });

  describe('default limit from RATE_LIMIT_PER_MINUTE', () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ env: { RATE_LIMIT_PER_MINUTE: '3' } });
      await s.createOrg(ORG);
    });
    after(async () => {
      await s?.close();
    });

    it('limits keys without a limit of their own to the configured default', async () => {
      const { key } = await s.createKey({ orgs: [ORG], scopes: ['patients:read'] });
      for (let i = 1; i <= 3; i++) {
        const res = await s.api('GET', P, { key });
        expect(res.status).to.equal(200);
        expect(res.headers.get('ratelimit-limit')).to.equal('3');
      }
      expectLimited(await s.api('GET', P, { key }), 3);
    });

    it('lets a key\'s own limit override the default', async () => {
      const { key } = await s.createKey({ orgs: [ORG], scopes: ['patients:read'], rateLimit: 6 });
      for (let i = 1; i <= 6; i++) expect((await s.api('GET', P, { key })).status, `request ${i}`).to.equal(200);
      expectLimited(await s.api('GET', P, { key }), 6);
    });
  });

  describe('shared through Redis', () => {
    let s: TestServer | undefined;
    let second: HttpServer | undefined;
    let secondUrl: string;

    before(async function () {
      // Without REDIS_URL the counters live in each process's memory, so two servers cannot
      // share them by design; the shared limit only exists (and can only be tested) with Redis.
      if (!process.env.REDIS_URL) this.skip();
      s = await startTestServer();
      await s.createOrg(ORG);
      // A second server process is modelled by a second HTTP app on the same database and Redis.
      second = createHttpApp(s.rt);
      secondUrl = (await second.listen(0, '127.0.0.1')).url;
    });
    after(async () => {
      await second?.close();
      await s?.close();
    });

    it('trips at the key\'s limit when requests alternate between two servers', async () => {
      const { key, id } = await s!.createKey({ orgs: [ORG], scopes: ['patients:read'], rateLimit: 4 });
      const viaSecond = async () => {
        const res = await fetch(`${secondUrl}${P}`, { headers: { authorization: `Bearer ${key}` } });
        return { status: res.status, headers: res.headers, body: await res.json() } as ApiResponse;
      };
      const seen: number[] = [];
      for (let i = 1; i <= 4; i++) {
        const res = i % 2 ? await s!.api('GET', P, { key }) : await viaSecond();
        expect(res.status, `request ${i}`).to.equal(200);
        seen.push(Number(res.headers.get('ratelimit-remaining')));
      }
      expect(seen).to.deep.equal([3, 2, 1, 0]);
      expectLimited(await s!.api('GET', P, { key }), 4);
      expectLimited(await viaSecond(), 4);
      // The counter is in Redis, under this runtime's prefix.
      const counters = await s!.rt.redis!.keys(`${s!.rt.redisPrefix}rl:*`);
      expect(counters.some((k) => k.endsWith(id))).to.equal(true);
    });
  });
});
