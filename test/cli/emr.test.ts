import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { expect } from 'chai';
import knexPkg from 'knex';
import { loadConfig } from '../../app/core/config.js';
import { createHttpApp } from '../../app/http/server.js';
import { createRuntime, PROJECT_ROOT, type Runtime } from '../../app/runtime.js';

const run = promisify(execFile);
const { knex } = knexPkg;
const BIN = path.join(PROJECT_ROOT, 'bin', 'emr.js');

/** The CLI against a scratch database: a temp SQLite file, or a fresh schema on PostgreSQL. */
describe('emr CLI', function () {
  this.timeout(60_000);
  let env: NodeJS.ProcessEnv;
  let cleanup: () => Promise<void>;

  const emr = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, cwd: PROJECT_ROOT });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  before(async () => {
    const base = loadConfig();
    env = { ...process.env, LOG_LEVEL: 'silent' };
    if (base.database.kind === 'postgres') {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const admin = knex({ client: 'pg', connection: base.database.url });
      await admin.raw(`create schema "${schema}"`);
      await admin.destroy();
      env.DATABASE_SCHEMA = schema;
      cleanup = async () => {
        const k = knex({ client: 'pg', connection: (base.database as { url: string }).url });
        await k.raw(`drop schema "${schema}" cascade`);
        await k.destroy();
      };
    } else {
      const dir = mkdtempSync(path.join(tmpdir(), 'emr-cli-'));
      env.DATABASE_URL = `sqlite:${path.join(dir, 'cli.sqlite')}`;
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  after(() => cleanup());

  it('plans the schema with --dry-run without changing it, then migrates, then has nothing to do', async () => {
    const plan = await emr('migrate', '--dry-run');
    expect(plan.code).to.equal(0);
    expect(plan.stdout).to.match(/create table "patients"/);
    expect(plan.stdout).to.match(/create index/);
    const again = await emr('migrate', '--dry-run');
    expect(again.stdout).to.equal(plan.stdout); // the dry run changed nothing
    const applied = await emr('migrate');
    expect(applied.code).to.equal(0);
    expect(applied.stdout).to.match(/^Applied \d+ change/);
    expect((await emr('migrate', '--dry-run')).stdout).to.match(/up to date/);
  });

  it('creates organizations and refuses a reserved or taken slug', async () => {
    const made = await emr('orgs', 'create', '--slug', 'cli-clinic', '--name', 'CLI Clinic');
    expect(made.code).to.equal(0);
    expect(JSON.parse(made.stdout)).to.include({ slug: 'cli-clinic', name: 'CLI Clinic' });
    const taken = await emr('orgs', 'create', '--slug', 'cli-clinic', '--name', 'Again');
    expect(taken.code).to.equal(1);
    expect(taken.stderr).to.match(/already exists/);
    const reserved = await emr('orgs', 'create', '--slug', 'kb', '--name', 'KB');
    expect(reserved.code).to.equal(1);
    expect(reserved.stderr).to.match(/taken by a global route/);
    expect((await emr('orgs', 'create', '--slug', 'second-clinic', '--name', 'Second')).code).to.equal(0);
  });

  it('issues a key as one JSON object on stdout, which then works against the API; revoke and rotate act on it', async () => {
    const created = await emr('keys', 'create', '--org', 'cli-clinic,second-clinic', '--partner', 'CLI Partner', '--scopes', 'patients:read,tasks:write', '--rate-limit', '42', '--expires', '2099-01-01');
    expect(created.code).to.equal(0);
    const key = JSON.parse(created.stdout);
    expect(key.key).to.match(/^sk_live_[A-Za-z0-9]{40}$/);
    expect(key).to.include({ partner: 'CLI Partner', rate_limit: 42 });
    expect(key.orgs).to.deep.equal(['cli-clinic', 'second-clinic']);
    expect(key.scopes).to.deep.equal(['patients:read', 'tasks:write']);
    expect(key.expires_at).to.equal('2099-01-01T00:00:00.000Z');

    // The server, on the same database, accepts it with exactly those scopes and limit.
    const rt: Runtime = await createRuntime(loadConfig({ ...env, PORT: '0' }), { sync: false });
    const http = createHttpApp(rt);
    try {
      const { url } = await http.listen(0, '127.0.0.1');
      const get = (k: string, p: string) => fetch(`${url}/api/v1/${p}`, { headers: { authorization: `Bearer ${k}` } });
      const ok = await get(key.key, 'cli-clinic/patients');
      expect(ok.status).to.equal(200);
      expect(ok.headers.get('ratelimit-limit')).to.equal('42');
      expect((await get(key.key, 'second-clinic/tasks')).status).to.equal(200);
      expect((await get(key.key, 'cli-clinic/tickets')).status).to.equal(403);

      const rotated = await emr('keys', 'rotate', key.id, '--overlap', '0');
      expect(rotated.code).to.equal(0);
      const next = JSON.parse(rotated.stdout);
      expect(next.key).to.match(/^sk_live_/).and.not.equal(key.key);
      expect((await get(next.key, 'cli-clinic/patients')).status).to.equal(200);

      const revoked = await emr('keys', 'revoke', next.id);
      expect(revoked.code).to.equal(0);
      expect(JSON.parse(revoked.stdout).revoked_at).to.be.a('string');
      // Another process revoked it: this server's key cache may hold it for AUTH_CACHE_TTL_MS.
      await new Promise((r) => setTimeout(r, rt.config.authCacheTtlMs + 100));
      expect((await get(next.key, 'cli-clinic/patients')).status).to.equal(401);
      expect((await get(key.key, 'cli-clinic/patients')).status).to.equal(401); // overlap 0: expired
    } finally {
      await http.close();
      await rt.close();
    }
  });

  it('rejects bad input with a clear message and a non-zero exit', async () => {
    const badScope = await emr('keys', 'create', '--org', 'cli-clinic', '--partner', 'P', '--scopes', 'nothing:read');
    expect(badScope.code).to.equal(1);
    expect(badScope.stderr).to.match(/unknown scope 'nothing:read'/);
    const noOrg = await emr('keys', 'create', '--org', 'nowhere', '--partner', 'P', '--scopes', 'patients:read');
    expect(noOrg.code).to.equal(1);
    expect(noOrg.stderr).to.match(/Organization not found: nowhere/);
    const missing = await emr('keys', 'create', '--org', 'cli-clinic', '--scopes', 'patients:read');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/--partner is required/);
    expect((await emr('keys', 'revoke', '01890000-0000-7000-8000-000000000000')).stderr).to.match(/API key not found/);
    expect((await emr('frobnicate')).code).to.equal(2);
  });
});
