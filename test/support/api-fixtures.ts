import { expect } from 'chai';
import type { Org } from '../../app/operations/context.js';
import { startTestServer, type ApiResponse, type TestServer } from './server.js';

/** A well-formed UUID (v7 layout) that no record has. */
export const MISSING_ID = '01900000-0000-7000-8000-000000000000';

export interface Fixture {
  s: TestServer;
  org: Org;
  key: string;
  keyId: string;
  base: string;
}

/** A server, one organization and an all-scopes key with a limit high enough for a test file. */
export async function setupApi(opts: Parameters<typeof startTestServer>[0] = {}): Promise<Fixture> {
  const s = await startTestServer(opts);
  const org = await s.createOrg();
  const created = await s.createKey({ orgs: [org.slug], scopes: ['*'], rateLimit: 1_000_000 });
  return { s, org, key: created.key, keyId: created.id, base: `/api/v1/${org.slug}` };
}

/** Asserts the documented error envelope, its status and code, and the matching X-Request-Id. */
export function expectError(res: ApiResponse, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.body).to.be.an('object');
  expect(res.body.error).to.equal(code);
  expect(res.body.message).to.be.a('string').and.not.equal('');
  expect(res.body.request_id).to.be.a('string').and.not.equal('');
  expect(res.headers.get('x-request-id')).to.equal(res.body.request_id);
  for (const k of Object.keys(res.body)) expect(['error', 'message', 'details', 'request_id']).to.include(k);
  if (res.body.details !== undefined) expect(res.body.details).to.be.an('array').with.length.greaterThan(0);
}

/** The JSON paths named by an error's details. */
export function detailPaths(res: ApiResponse): string[] {
  return ((res.body?.details ?? []) as { path: string }[]).map((d) => d.path);
}

export async function create(f: Fixture, resource: string, body: Record<string, unknown>, key = f.key): Promise<Record<string, any>> {
  const res = await f.s.api('POST', `${f.base}/${resource}`, { key, body });
  expect(res.status, `POST ${resource}: ${JSON.stringify(res.body)}`).to.equal(201);
  return res.body.data;
}

export async function createPatient(f: Fixture, body: Record<string, unknown>): Promise<Record<string, any>> {
  return create(f, 'patients', body);
}

/** GETs a list and returns its body, asserting 200. */
export async function list(f: Fixture, pathAndQuery: string, key = f.key): Promise<Record<string, any>> {
  const res = await f.s.api('GET', `${f.base}/${pathAndQuery}`, { key });
  expect(res.status, `GET ${pathAndQuery}: ${JSON.stringify(res.body)}`).to.equal(200);
  return res.body;
}

export const ids = (rows: Record<string, any>[]): string[] => rows.map((r) => r.id as string);
