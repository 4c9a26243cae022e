import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import knexPkg from 'knex';
import { PROJECT_ROOT } from '../../app/runtime.js';

const { knex } = knexPkg;

// A patient import is read as it arrives, never held whole: a server with a 64 MB heap stages an
// import of 60,000 JSON rows (about 9 MB of body, well over what parsing it whole would take in
// that heap) and answers 202. On SQLite or PostgreSQL (DATABASE_URL).

const CHILD = path.join(PROJECT_ROOT, 'test', 'support', 'import-server-child.ts');
const ROWS = 60_000;

/** The body, generated as it is sent: `{"rows":[…],"meta":{…}}`, 1,000 rows a chunk. */
function* importBody(): Generator<string> {
  yield '{"rows":[';
  for (let start = 0; start < ROWS; start += 1000) {
    const part: string[] = [];
    for (let i = start; i < Math.min(start + 1000, ROWS); i++) {
      part.push(JSON.stringify({ first_name: `Mem${i}`, last_name: 'Import', chart_number: `MEM-${i}`, date_of_birth: '1980-01-01', email: `mem${i}@example.org`, city: 'Springfield' }));
    }
    yield `${start ? ',' : ''}${part.join(',')}`;
  }
  yield '],"meta":{"mode":"apply","on_conflict":"fail"}}';
}

describe('patient import: memory stays bounded whatever the import size', function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  let cleanup = async () => {};
  let env: Record<string, string>;

  before(async () => {
    const url = process.env.DATABASE_URL;
    const base: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) base[k] = v;
    // The back office is off: this measures the import, not the admin panel's bundle.
    env = { ...base, LOG_LEVEL: 'silent', SEED_DEMO: 'false', REDIS_URL: '', ADMIN_ENABLED: 'false' };
    if (url && /^postgres(ql)?:\/\//.test(url)) {
      const schema = `t_importmem_${randomBytes(5).toString('hex')}`;
      const admin = knex({ client: 'pg', connection: url });
      await admin.raw(`create schema "${schema}"`);
      await admin.destroy();
      Object.assign(env, { DATABASE_URL: url, DATABASE_SCHEMA: schema });
      cleanup = async () => {
        const k = knex({ client: 'pg', connection: url });
        await k.raw(`drop schema if exists "${schema}" cascade`);
        await k.destroy();
      };
    } else {
      const dir = mkdtempSync(path.join(tmpdir(), 'emr-importmem-'));
      Object.assign(env, { DATABASE_URL: `sqlite:${path.join(dir, 'import.sqlite')}`, DATABASE_SCHEMA: '' });
      cleanup = async () => rmSync(dir, { recursive: true, force: true });
    }
  });
  after(async () => {
    // A child killed by a signal (an out-of-memory abort) has a null exitCode but has exited.
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    await cleanup();
  });

  it('stages a 60,000-row JSON import in a server with a 64 MB heap and answers 202', async () => {
    child = spawn(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', CHILD], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr!.on('data', (c) => { errors += c; });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child!.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      child!.once('exit', (code) => reject(new Error(`server exited (${code}): ${errors.slice(-2000)}`)));
    });
    const { url, key, org } = JSON.parse(line) as { url: string; key: string; org: string };
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${url}/api/v1/${org}/patients/bulk`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', (err) => reject(new Error(`${err.message}; server: ${errors.slice(-2000)}`)));
      Readable.from(importBody()).pipe(req);
    });
    expect(answer.status, answer.body).to.equal(202);
    expect(JSON.parse(answer.body).data).to.include({ type: 'patients.import', status: 'queued', total: ROWS });
    expect(child.exitCode, errors).to.equal(null);
  });
});
