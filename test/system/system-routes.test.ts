import { expect } from 'chai';
import { pino } from 'pino';
import { createApiKey } from '../../app/auth/api-keys.js';
import { createHttpApp } from '../../app/http/server.js';
import { createRuntime } from '../../app/runtime.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ORG = 'system-clinic';

describe('system routes', () => {
  let s: TestServer;

  before(async () => {
    s = await startTestServer();
    await s.createOrg(ORG);
  });
  after(async () => {
    await s?.close();
  });

  describe('/health', () => {
    it('reports ok with the database and Redis checks, without authentication', async () => {
      const res = await s.api('GET', '/health');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({
        status: 'ok',
        checks: { database: 'ok', redis: process.env.REDIS_URL ? 'ok' : 'not_configured' },
      });
    });

    it('reports 503 degraded when the database is unreachable', async () => {
      // A second start on the same database, whose connection is then closed.
      // No background work (jobs, event sweeps): only the database and Redis are closed below.
      const rt = await createRuntime(s.rt.config, { logger: pino({ level: 'silent' }), redisPrefix: s.rt.redisPrefix, background: false });
      const http = createHttpApp(rt);
      try {
        const { url } = await http.listen(0, '127.0.0.1');
        await rt.db.close();
        const res = await fetch(`${url}/health`);
        expect(res.status).to.equal(503);
        const body = await res.json() as any;
        expect(body.status).to.equal('degraded');
        expect(body.checks.database).to.equal('unavailable');
      } finally {
        await http.close();
        rt.redis?.disconnect();
      }
    });
  });

  describe('/metrics', () => {
    it('exposes Prometheus counters of the requests served, by route template', async () => {
      const { key } = await s.createKey({ orgs: [ORG], scopes: ['patients:read'] });
      expect((await s.api('GET', `/api/v1/${ORG}/patients`, { key })).status).to.equal(200);
      expect((await s.api('GET', `/api/v1/${ORG}/patients`)).status).to.equal(401);
      const res = await s.api('GET', '/metrics');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/plain/);
      const text = String(res.body);
      expect(text).to.include('# TYPE http_requests_total counter');
      expect(text).to.match(/http_requests_total\{method="GET",route="\/api\/v1\/:org\/patients",status="200"\} [1-9]/);
      expect(text).to.match(/http_requests_total\{method="GET",route="\/api\/v1\/:org\/patients",status="401"\} [1-9]/);
      expect(text).to.include('http_request_duration_seconds_bucket');
      // Route templates, not concrete paths: no org slug in the labels.
      expect(text).to.not.include(ORG);
    });
  });

  describe('API reference', () => {
    it('serves the OpenAPI document', async () => {
      const res = await s.api('GET', '/api/openapi.json');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.body.openapi).to.equal('3.1.0');
      expect(res.body.paths).to.have.property('/api/v1/{org}/patients');
    });

    it('serves the caller\'s scoped document with ?scoped=true and credentials', async () => {
      const { key } = await s.createKey({ orgs: [ORG], scopes: ['patients:read'] });
      const paths = (body: any) => Object.keys(body.paths).filter((p) => p.startsWith('/api/v1/{org}'));
      const res = await s.api('GET', '/api/openapi.json?scoped=true', { key });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^application\/json/);
      expect(res.headers.get('cache-control')).to.equal('private, no-store');
      const chart = ['allergies', 'diseases', 'medications', 'communication-logs', 'relationships', 'alerts'].flatMap((c) => [`/api/v1/{org}/patients/{patient_id}/${c}`, `/api/v1/{org}/patients/{patient_id}/${c}/{id}`]);
      // The read actions (GET …/dependents, …/guardians, …/family, and the patient reads) come with patients:read; the write actions do not.
      const reads = [...['dependents', 'guardians', 'family', 'medical-summary'].map((r) => `/api/v1/{org}/patients/{id}/${r}`), ...['search', 'counts/by-location', 'check-duplicates'].map((a) => `/api/v1/{org}/patients/${a}`)];
      const fieldValues = ['/api/v1/{org}/patients/{patient_id}/field-values', '/api/v1/{org}/patients/{patient_id}/field-values/form'];
      chart.push('/api/v1/{org}/patients/{patient_id}/vital-signs', '/api/v1/{org}/patients/{patient_id}/vital-signs/{id}');
      chart.push(...['tags', 'referral-attributions'].flatMap((c) => [`/api/v1/{org}/patients/{patient_id}/${c}`, `/api/v1/{org}/patients/{patient_id}/${c}/{id}`]));
      expect([...paths(res.body)].sort()).to.deep.equal(['/api/v1/{org}/patients', '/api/v1/{org}/patients/{id}', ...chart, ...reads, ...fieldValues].sort());
      expect(res.body.paths['/api/v1/{org}/patients']).to.not.have.property('post');
      expect(res.body.components.schemas.Patient.properties).to.not.have.property('social_security_number');

      // A JWT from the token exchange stands for its key.
      const token = await s.api('POST', '/api/v1/auth/token', { body: { apiKey: key } });
      const byToken = await s.api('GET', '/api/openapi.json?scoped=true', { headers: { authorization: `Bearer ${token.body.accessToken}` } });
      expect(byToken.status).to.equal(200);
      expect(byToken.body).to.deep.equal(res.body);

      // Credentials without ?scoped=true change nothing: the full document.
      const full = await s.api('GET', '/api/openapi.json', { key });
      expect(paths(full.body).length).to.be.greaterThan(10);
      expect(full.body.paths['/api/v1/{org}/patients']).to.have.property('post');
      expect((await s.api('GET', '/api/openapi.json?scoped=false', { key })).body).to.deep.equal(full.body);
    });

    it('answers a scoped request without valid credentials with the usual 401 envelope, and a bad flag with 400', async () => {
      for (const key of [undefined, 'sk_live_not-a-key', 'not.a.jwt']) {
        const res = await s.api('GET', '/api/openapi.json?scoped=true', { key });
        expect(res.status, String(key)).to.equal(401);
        expect(res.body.error).to.equal('unauthorized');
        expect(res.body.request_id).to.be.a('string');
        expect(res.headers.get('www-authenticate')).to.equal('Bearer');
      }
      const bad = await s.api('GET', '/api/openapi.json?scoped=yes');
      expect(bad.status).to.equal(400);
      expect(bad.body.error).to.equal('validation_error');
      expect(bad.body.details).to.deep.equal([{ path: '/query/scoped', message: 'must be true or false' }]);
    });

    it('states the configured rate limit in the document', async () => {
      const res = await s.api('GET', '/api/openapi.json');
      expect(res.body.info.description).to.include(`${s.rt.config.rateLimitPerMinute} requests per minute`);
    });

    it('serves /api/docs as HTML that loads swagger-ui from local assets only', async () => {
      const res = await s.api('GET', '/api/docs');
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      const html = String(res.body);
      expect(html).to.include('src="/api/docs/swagger-ui-bundle.js"');
      expect(html).to.include('href="/api/docs/swagger-ui.css"');
      expect(html).to.include('/api/openapi.json');
      expect(html).to.not.match(/(src|href)="(https?:)?\/\//);
    });

    it('serves the swagger-ui assets the page references', async () => {
      const bundle = await fetch(`${s.url}/api/docs/swagger-ui-bundle.js`);
      expect(bundle.status).to.equal(200);
      expect(bundle.headers.get('content-type')).to.match(/javascript/);
      const js = await bundle.text();
      expect(js.length).to.be.greaterThan(100_000);
      expect(js).to.include('SwaggerUIBundle');
      const preset = await fetch(`${s.url}/api/docs/swagger-ui-standalone-preset.js`);
      expect(preset.status).to.equal(200);
      expect(preset.headers.get('content-type')).to.match(/javascript/);
      await preset.arrayBuffer();
      const css = await fetch(`${s.url}/api/docs/swagger-ui.css`);
      expect(css.status).to.equal(200);
      expect(css.headers.get('content-type')).to.match(/^text\/css/);
      await css.arrayBuffer();
    });

    it('serves no other file from the docs folder', async () => {
      for (const p of ['/api/docs/package.json', '/api/docs/..%2F..%2Fpackage.json', '/api/docs/index.js']) {
        const res = await s.api('GET', p);
        expect(res.status, p).to.equal(404);
        expect(res.body.error, p).to.equal('not_found');
      }
    });
  });

  describe('request logs', () => {
    it('record the path and status but no patient data, query string, body or key', async () => {
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
      // A second start on the same database, logging into memory.
      const rt = await createRuntime(s.rt.config, { logger, redisPrefix: s.rt.redisPrefix });
      const http = createHttpApp(rt);
      try {
        const { url } = await http.listen(0, '127.0.0.1');
        const { key } = await createApiKey(rt, { orgSlugs: [ORG], partnerName: 'Log Partner', scopes: ['patients:write', 'patients:sensitive'] });
        const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
        const secrets = ['Zebulon', 'Quixote', '555-11-2222', 'zeb.quixote@example.org', 'MCD-424242', key, key.slice('sk_live_'.length)];
        const base = `${url}/api/v1/${ORG}/patients`;

        const created = await fetch(base, {
          method: 'POST', headers,
          body: JSON.stringify({ first_name: 'Zebulon', last_name: 'Quixote', social_security_number: '555-11-2222', email: 'zeb.quixote@example.org', medicaid_id: 'MCD-424242' }),
        });
        expect(created.status).to.equal(201);
        const id = ((await created.json()) as any).data.id;
        expect((await fetch(`${base}?search=Zebulon&last_name=Quixote`, { headers })).status).to.equal(200);
        expect((await fetch(`${base}/${id}?fields=social_security_number`, { headers })).status).to.equal(200);
        const invalid = await fetch(base, { method: 'POST', headers, body: JSON.stringify({ first_name: 'Zebulon', last_name: 'Quixote', date_of_birth: 'Quixote-555-11-2222' }) });
        expect(invalid.status).to.equal(400);
        await invalid.arrayBuffer();
        expect((await fetch(`${base}/${id}`, { method: 'PATCH', headers, body: JSON.stringify({ email: 'zeb.quixote@example.org', base_version: 9 }) })).status).to.equal(409);
        await http.close();

        const entries = lines.map((l) => JSON.parse(l));
        const requests = entries.filter((e) => e.msg === 'request');
        expect(requests.map((e) => `${e.method} ${e.status}`)).to.deep.equal(['POST 201', 'GET 200', 'GET 200', 'POST 400', 'PATCH 409']);
        expect(requests[0]).to.include({ path: `/api/v1/${ORG}/patients`, route: '/api/v1/:org/patients' });
        expect(requests[2].path).to.equal(`/api/v1/${ORG}/patients/${id}`);
        expect(requests.every((e) => typeof e.request_id === 'string' && typeof e.ms === 'number')).to.equal(true);
        const all = lines.join('\n');
        for (const secret of secrets) expect(all, `log mentions ${secret}`).to.not.include(secret);
        expect(all).to.not.include('search=');
      } finally {
        await http.close();
        await rt.close();
      }
    });
  });
});
