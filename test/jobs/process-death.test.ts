import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { JobQueueDeps } from '../../app/jobs/index.js';
import { createItemsTable, ITEM_COUNT, ITEMS_TABLE, itemsHandler } from './fixtures/items-job.js';
import {
  deleteRedisKeys, openJobsDatabase, ORG_A, QueueFactory, quietLogger, REDIS_URL, redisAnswers, testRedisPrefix, waitFor, type TestDatabase,
} from './support.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'job-process.ts');

function startRunnerProcess(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => { output += chunk; });
  child.stderr!.on('data', (chunk) => { output += chunk; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

for (const backend of ['database', 'bullmq'] as const) {
  const needsRedis = backend === 'bullmq';
  describe(`jobs: a runner process that dies (${backend})${needsRedis && !REDIS_URL ? ' (skipped: set REDIS_URL to run)' : ''}`, function () {
    let database: TestDatabase;
    let queues: QueueFactory;
    let prefix: string;
    let runner: ReturnType<typeof startRunnerProcess> | undefined;

    before(async function () {
      if (needsRedis && !(REDIS_URL && (await redisAnswers(REDIS_URL)))) return this.skip();
      database = await openJobsDatabase();
      await createItemsTable(database.db.knex);
      prefix = testRedisPrefix();
      queues = new QueueFactory((): JobQueueDeps => ({
        knex: database.db.knex, dialect: database.db.dialect, logger: quietLogger(), redisPrefix: prefix, pollMs: 20, leaseMs: 500,
        redisUrl: needsRedis ? REDIS_URL : undefined,
      }));
    });
    afterEach(async () => {
      if (runner && runner.child.exitCode === null && runner.child.signalCode === null) runner.child.kill('SIGKILL');
      await runner?.exited;
      runner = undefined;
      await queues?.closeAll();
    });
    after(async () => {
      await database?.close();
      if (needsRedis && REDIS_URL && prefix) await deleteRedisKeys(REDIS_URL, prefix);
    });

    const childEnv = () => ({ JOBS_DATABASE: JSON.stringify(database.config), REDIS_URL: needsRedis ? REDIS_URL! : '', REDIS_PREFIX: prefix });

    it('a job whose process was killed (SIGKILL) resumes from its checkpoint; no item is done twice', async () => {
      const enqueuer = queues.make();
      enqueuer.define('test.items', async () => null);
      const { id } = await enqueuer.enqueue('test.items', { orgId: ORG_A, payload: {} });

      runner = startRunnerProcess({ ...childEnv(), MODE: 'hang' });
      await waitFor('the runner process to reach item 3', () => runner!.output().includes('HANGING'), 15_000);
      runner.child.kill('SIGKILL');
      await runner.exited;
      const orphaned = await enqueuer.get(id);
      expect(orphaned).to.include({ status: 'running', attempts: 1 });
      expect(orphaned!.checkpoint).to.deep.equal({ done: [1, 2, 3] });

      const survivor = queues.make();
      survivor.define('test.items', itemsHandler(database.db.knex, 'survivor'));
      await survivor.start();
      const done = await waitFor('completion', async () => ((await survivor.get(id))?.status === 'completed' ? survivor.get(id) : undefined), 10_000);
      expect(done).to.include({ attempts: 2, progress: 100 });
      expect(done!.result).to.deep.equal({ items: ITEM_COUNT });
      const rows: { item: number; runner: string }[] = await database.db.knex(ITEMS_TABLE).where({ job_id: id }).orderBy('item');
      expect(rows.map((r) => r.item)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(rows.filter((r) => r.runner === 'killed').map((r) => r.item)).to.deep.equal([1, 2, 3]);
    });

    it('a process exits by itself once its queue is closed', async () => {
      runner = startRunnerProcess({ ...childEnv(), MODE: 'clean' });
      const exitedInTime = await Promise.race([runner.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 15_000).unref())]);
      expect(exitedInTime, `the process is still alive: ${runner.output()}`).to.equal(true);
      expect(runner.child.exitCode, runner.output()).to.equal(0);
      expect(runner.output()).to.include('CLOSED');
    });
  });
}
