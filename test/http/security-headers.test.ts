import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { setupApi, type Fixture } from '../support/api-fixtures.js';
import type { ApiResponse } from '../support/server.js';

/** The directives of a Content-Security-Policy header, by name. */
function csp(res: ApiResponse): Record<string, string[]> {
  const header = res.headers.get('content-security-policy');
  expect(header, 'Content-Security-Policy').to.be.a('string');
  const out: Record<string, string[]> = {};
  for (const part of header!.split(';').map((p) => p.trim()).filter(Boolean)) {
    const [name, ...values] = part.split(/\s+/);
    out[name] = values;
  }
  return out;
}

function expectBaseHeaders(res: ApiResponse) {
  expect(res.headers.get('x-content-type-options')).to.equal('nosniff');
  expect(res.headers.get('x-powered-by')).to.equal(null);
  expect(res.headers.get('x-frame-options')).to.equal('DENY');
  expect(res.headers.get('referrer-policy')).to.equal('no-referrer');
}

describe('security headers', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  it('sends them on API responses, with a CSP that allows nothing to load', async () => {
    const res = await f.s.api('GET', `${f.base}/patients`, { key: f.key });
    expect(res.status).to.equal(200);
    expectBaseHeaders(res);
    const policy = csp(res);
    expect(policy['default-src']).to.deep.equal(["'none'"]);
    expect(policy['frame-ancestors']).to.deep.equal(["'none'"]);
  });

  it('sends them on errors, system routes and the OpenAPI document', async () => {
    for (const [path, status] of [[`${f.base}/patients`, 401], ['/api/v1/nowhere', 404], ['/health', 200], ['/metrics', 200], ['/api/openapi.json', 200]] as const) {
      const res = await f.s.api('GET', path);
      expect(res.status, path).to.equal(status);
      expectBaseHeaders(res);
      expect(csp(res)['default-src'], path).to.deep.equal(["'none'"]);
    }
  });

  describe('the API reference page', () => {
    let page: ApiResponse;
    let policy: Record<string, string[]>;

    before(async () => {
      page = await f.s.api('GET', '/api/docs');
      expect(page.status).to.equal(200);
      policy = csp(page);
    });

    it('has a restrictive policy: same-origin scripts only, no inline or eval script, no framing', () => {
      expectBaseHeaders(page);
      expect(policy['default-src']).to.deep.equal(["'self'"]);
      expect(policy['script-src']).to.include("'self'");
      for (const source of policy['script-src']) expect(source).to.match(/^'self'$|^'sha256-[A-Za-z0-9+/]+=*'$/);
      expect(policy['object-src']).to.deep.equal(["'none'"]);
      expect(policy['frame-ancestors']).to.deep.equal(["'none'"]);
      expect(policy['base-uri']).to.deep.equal(["'self'"]);
    });

    it('loads every script from this origin, each of which the server serves, and has no inline script', async () => {
      const html = page.body as string;
      const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
      expect(scripts.length).to.be.greaterThan(0);
      for (const [, attributes, content] of scripts) {
        const src = /\bsrc="([^"]+)"/.exec(attributes)?.[1];
        if (!src) {
          // An inline script is allowed only by its hash in the policy.
          const hash = `'sha256-${createHash('sha256').update(content).digest('base64')}'`;
          expect(policy['script-src'], 'inline script without its hash in script-src').to.include(hash);
          continue;
        }
        expect(src, 'script src').to.match(/^\/(?!\/)/);
        const asset = await f.s.api('GET', src);
        expect(asset.status, src).to.equal(200);
        expect(asset.headers.get('content-type'), src).to.match(/javascript/);
      }
      expect(html).not.to.match(/\bon[a-z]+="/i); // no inline event handlers either
    });

    it('loads every stylesheet and icon from this origin', async () => {
      const html = page.body as string;
      const links = [...html.matchAll(/<link\b[^>]*\bhref="([^"]+)"/gi)].map((m) => m[1]);
      expect(links.length).to.be.greaterThan(0);
      for (const href of links) {
        expect(href).to.match(/^\/(?!\/)/);
        expect((await f.s.api('GET', href)).status, href).to.equal(200);
      }
    });
  });
});
