import { expect } from 'chai';
import { pino } from 'pino';
import { revokeApiKey, rotateApiKey } from '../../app/auth/api-keys.js';
import { createRuntime, type Runtime } from '../../app/runtime.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('revoking or rotating a key in another process', () => {
  let s: TestServer;
  let other: Runtime;
  const PATIENTS = '/api/v1/revoke-clinic/patients';

  before(async () => {
    // The auth cache would otherwise hold a key for a minute: only the invalidation can explain a 401.
    s = await startTestServer({ env: { AUTH_CACHE_TTL_MS: '60000' } });
    await s.createOrg('revoke-clinic');
    // Another process on the same database and Redis prefix (the CLI, a second server).
    other = await createRuntime(s.rt.config, { redisPrefix: s.rt.redisPrefix, logger: pino({ level: 'silent' }), background: false });
  });
  after(async () => {
    await other?.close();
    await s?.close();
  });

  it('takes effect at once in this server, with no wait for the auth cache', async () => {
    const k = await s.createKey({ orgs: ['revoke-clinic'], scopes: ['patients:read'] });
    expect((await s.api('GET', PATIENTS, { key: k.key })).status).to.equal(200);
    await revokeApiKey(other, k.id);
    const res = await s.api('GET', PATIENTS, { key: k.key });
    expect(res.status).to.equal(401);
    expect(res.body.message).to.match(/revoked/);
  });

  it('shortens the old key of a rotation at once, everywhere', async () => {
    const k = await s.createKey({ orgs: ['revoke-clinic'], scopes: ['patients:read'] });
    expect((await s.api('GET', PATIENTS, { key: k.key })).status).to.equal(200);
    const rotated = await rotateApiKey(other, k.id, 0);
    expect((await s.api('GET', PATIENTS, { key: k.key })).status).to.equal(401);
    expect((await s.api('GET', PATIENTS, { key: rotated.key })).status).to.equal(200);
  });
});
