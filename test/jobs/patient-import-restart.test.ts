import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import knexPkg from 'knex';
import { pino } from 'pino';
import { createApiKey } from '../../app/auth/api-keys.js';
import { createOrg } from '../../app/auth/orgs.js';
import { loadConfig } from '../../app/core/config.js';
import { createHttpApp } from '../../app/http/server.js';
import { createRuntime, PROJECT_ROOT, type Runtime } from '../../app/runtime.js';
import { REDIS_URL, redisAnswers } from './support.js';

const { knex } = knexPkg;
type Row = Record<string, any>;

// A patient import job whose runner dies (SIGKILL) mid-import resumes in another process from the
// cursor committed with the last applied chunk: every row becomes exactly one patient with one
// create audit row, none is lost or doubled, and the staged rows are gone. With the database
// runner (no Redis) and with BullMQ (REDIS_URL), on SQLite or PostgreSQL (DATABASE_URL).

const CHILD = path.join(PROJECT_ROOT, 'test', 'support', 'import-child.ts');
const ROWS = 60;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function freshDatabase(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const schema = `t_import_${randomBytes(5).toString('hex')}`;
    const admin = knex({ client: 'pg', connection: url });
    await admin.raw(`create schema "${schema}"`);
    await admin.destroy();
    return {
      env: { DATABASE_URL: url, DATABASE_SCHEMA: schema },
      async cleanup() {
        const k = knex({ client: 'pg', connection: url });
        await k.raw(`drop schema if exists "${schema}" cascade`);
        await k.destroy();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'emr-import-'));
  return { env: { DATABASE_URL: `sqlite:${path.join(dir, 'import.sqlite')}`, DATABASE_SCHEMA: '' }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

for (const backend of ['database', 'bullmq'] as const) {
  const needsRedis = backend === 'bullmq';
  describe(`patient import job: the runner dies mid-import (${backend})${needsRedis && !REDIS_URL ? ' (skipped: set REDIS_URL to run)' : ''}`, function () {
    this.timeout(60_000);
    let db: Awaited<ReturnType<typeof freshDatabase>>;
    let env: Record<string, string>;
    let runtime: Runtime | undefined;

    before(async function () {
      if (needsRedis && !(REDIS_URL && (await redisAnswers(REDIS_URL)))) return this.skip();
      db = await freshDatabase();
      const base: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) base[k] = v;
      env = {
        ...base, ...db.env, LOG_LEVEL: 'silent', SEED_DEMO: 'false', JOB_LEASE_MS: '500', REDIS_URL: needsRedis ? REDIS_URL! : '',
        IMPORT_REDIS_PREFIX: `emr-import-test:${randomBytes(4).toString('hex')}:`, PATIENT_IMPORT_SYNC_LIMIT: '5', PATIENT_IMPORT_CHUNK_ROWS: '3',
      };
    });
    after(async () => {
      if (runtime?.redis) {
        const keys = await runtime.redis.keys(`${env.IMPORT_REDIS_PREFIX}*`);
        if (keys.length) await runtime.redis.del(...keys);
      }
      await runtime?.close();
      await db?.cleanup();
    });

    const open = (background: boolean) => createRuntime({ ...loadConfig(env), port: 0, host: '127.0.0.1' }, { logger: pino({ level: 'silent' }), redisPrefix: env.IMPORT_REDIS_PREFIX, background });

    it('resumes from the committed cursor in a new process: every row imported exactly once', async () => {
      const saved = { ...process.env };
      Object.assign(process.env, { PATIENT_IMPORT_SYNC_LIMIT: '5' });
      // 1. The import is staged and queued by a server that runs no jobs.
      const staging = await open(false);
      let jobId: string;
      let orgId: string;
      try {
        const org = await createOrg(staging, { slug: 'import-clinic', name: 'Import Clinic' });
        orgId = org.id;
        const { key } = await createApiKey(staging, { orgSlugs: [org.slug], partnerName: 'Importer', scopes: ['*'], rateLimit: 1000 });
        const http = createHttpApp(staging);
        const { url } = await http.listen(0, '127.0.0.1');
        const rows = Array.from({ length: ROWS }, (_, i) => ({ first_name: `Row${i}`, last_name: 'Restart', chart_number: `R-${i}` }));
        const res = await fetch(`${url}/api/v1/${org.slug}/patients/bulk`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ rows }) });
        expect(res.status).to.equal(202);
        jobId = ((await res.json()) as Row).data.id;
        await http.close();
      } finally {
        await staging.close();
        process.env = saved;
      }

      // 2. A runner process takes the job and dies after its first chunk committed.
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (c) => { output += c; });
      child.stderr!.on('data', (c) => { output += c; });
      const signal = await new Promise<string | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      expect(signal, output).to.equal('SIGKILL');

      // 3. A new process resumes it once the dead runner's lease has run out.
      runtime = await open(true);
      const k = runtime.db.knex;
      const before = await k('patient_imports').where({ job_id: jobId }).first();
      expect(Number(before.cursor)).to.be.greaterThan(0).and.lessThan(ROWS);
      const orphaned = await runtime.jobs.get(jobId);
      expect(orphaned!.status).to.be.oneOf(['running', 'queued']);
      const deadline = Date.now() + 30_000;
      let job = await runtime.jobs.get(jobId);
      while (job!.status !== 'completed' && job!.status !== 'failed' && Date.now() < deadline) {
        await sleep(50);
        job = await runtime.jobs.get(jobId);
      }
      expect(job, JSON.stringify(job)).to.include({ status: 'completed' });
      expect(job!.attempts).to.be.at.least(2);
      expect(job!.result).to.include({ total: ROWS, created: ROWS, failed: 0, rows_done: ROWS });

      const patients = (await k('patients').where({ org_id: orgId! }).select('id', 'chart_number')) as Row[];
      expect(patients).to.have.length(ROWS);
      expect(new Set(patients.map((p) => p.chart_number)).size).to.equal(ROWS);
      const audits = (await k('audit_events').where({ resource: 'patient', action: 'create' }).select('resource_id')) as Row[];
      expect(audits).to.have.length(ROWS);
      expect(new Set(audits.map((a) => a.resource_id))).to.deep.equal(new Set(patients.map((p) => p.id)));
      expect(await k('patient_import_rows').where({ import_id: before.id })).to.have.length(0);
    });
  });
}
