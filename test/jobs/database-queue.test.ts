import { expect } from 'chai';
import { createJobQueue } from '../../app/jobs/index.js';
import { queueContract } from './queue-contract.js';
import { gate, openJobsDatabase, ORG_A, QueueFactory, quietLogger, sleep, waitFor, type TestDatabase } from './support.js';

describe('jobs: database runner', () => {
  let database: TestDatabase;
  let queues: QueueFactory;

  before(async () => {
    database = await openJobsDatabase();
    queues = new QueueFactory(() => ({
      knex: database.db.knex, dialect: database.db.dialect, logger: quietLogger(), redisPrefix: 'unused:', pollMs: 20, leaseMs: 2000, shutdownMs: 2000,
    }));
  });
  afterEach(async () => {
    await queues.closeAll();
    await database.db.knex('jobs').delete();
  });
  after(async () => {
    await database?.close();
  });

  queueContract({ kind: 'database', database: () => database, queues: () => queues });

  /** Leaves a job `running` under a runner that is gone, its lease already over. */
  async function abandonRunningJob(type: string): Promise<string> {
    const started = gate();
    const dying = queues.make({ shutdownMs: 20 });
    dying.define(type, async (ctx) => {
      await ctx.progress(40, { done: ['a', 'b'] });
      started.open();
      await new Promise(() => {});
    }, { attempts: 2 });
    await dying.start();
    const { id } = await dying.enqueue(type, { orgId: ORG_A, payload: {} });
    await started.promise;
    await dying.close();
    await database.db.knex('jobs').where({ id }).update({ locked_until: new Date(Date.now() - 1000).toISOString() });
    return id;
  }

  it('start() puts jobs of a dead runner back in the queue at once, keeping their checkpoint', async () => {
    const id = await abandonRunningJob('test.recover');
    const { knex } = database.db;
    const deadRunner = (await knex('jobs').where({ id }).first()).locked_by;
    const queue = queues.make({ pollMs: 60_000 });
    let resumedFrom: unknown;
    queue.define('test.recover', async (ctx) => { resumedFrom = ctx.checkpoint; return 'resumed'; }, { attempts: 2 });
    await queue.start();
    const row = await knex('jobs').where({ id }).first();
    expect(row.locked_by, 'the dead runner no longer holds it').not.to.equal(deadRunner);
    const done = await waitFor('completion', async () => ((await queue.get(id))?.status === 'completed' ? queue.get(id) : undefined));
    expect(done).to.include({ attempts: 2, result: 'resumed' });
    expect(resumedFrom).to.deep.equal({ done: ['a', 'b'] });
  });

  it('fails a job whose last attempt was interrupted', async () => {
    const id = await abandonRunningJob('test.last-try');
    await database.db.knex('jobs').where({ id }).update({ max_attempts: 1 });
    const queue = queues.make();
    let ran = false;
    queue.define('test.last-try', async () => { ran = true; }, { attempts: 1 });
    await queue.start();
    const job = await queue.get(id);
    expect(job).to.include({ status: 'failed', attempts: 1 });
    expect(job!.error).to.deep.equal({ code: 'job_interrupted', message: 'The runner stopped during the last attempt' });
    expect(job!.checkpoint).to.deep.equal({ done: ['a', 'b'] });
    await sleep(100);
    expect(ran).to.equal(false);
  });

  it('renews the lease of a long attempt, so another runner does not take it over', async () => {
    const runs: string[] = [];
    const handler = (name: string) => async () => { runs.push(name); await sleep(700); return name; };
    const a = queues.make({ leaseMs: 150 });
    const b = queues.make({ leaseMs: 150 });
    a.define('test.long', handler('a'));
    b.define('test.long', handler('b'));
    await a.start();
    const { id } = await a.enqueue('test.long', { orgId: ORG_A, payload: {} });
    await waitFor('a to start', () => runs.length === 1);
    await b.start();
    const done = await waitFor('completion', async () => ((await a.get(id))?.status === 'completed' ? a.get(id) : undefined), 5000);
    expect(runs).to.deep.equal(['a']);
    expect(done).to.include({ attempts: 1, result: 'a' });
  });

  it('an enqueue in this process wakes the runner without waiting for the next poll', async () => {
    const queue = queues.make({ pollMs: 60_000 });
    queue.define('test.wake', async () => 'woken');
    await queue.start();
    await sleep(50); // past the first poll
    const started = Date.now();
    const plain = await queue.enqueue('test.wake', { orgId: ORG_A, payload: {} });
    let inTrx = '';
    await database.db.knex.transaction(async (trx) => {
      inTrx = (await queue.enqueue('test.wake', { orgId: ORG_A, payload: {}, trx })).id;
    });
    for (const id of [plain.id, inTrx]) {
      await waitFor('completion', async () => (await queue.get(id))?.status === 'completed', 2000);
    }
    expect(Date.now() - started).to.be.below(2000);
  });

  it('tells onJobsChanged after committed changes, so cached job lists can be dropped', async () => {
    let notices = 0;
    const queue = queues.make({ onJobsChanged: () => { notices++; } });
    queue.define('test.noticed', async (ctx) => { await ctx.progress(50); });
    const { id } = await queue.enqueue('test.noticed', { orgId: ORG_A, payload: {} });
    expect(notices, 'after the enqueue').to.equal(1);
    await queue.start();
    await waitFor('completion', async () => (await queue.get(id))?.status === 'completed');
    expect(notices, 'claim, progress, completion').to.be.at.least(4);
  });

  it('delays a job by delayMs', async () => {
    const queue = queues.make();
    let ranAt = 0;
    queue.define('test.later', async () => { ranAt = Date.now(); });
    await queue.start();
    const enqueuedAt = Date.now();
    const { id } = await queue.enqueue('test.later', { orgId: ORG_A, payload: {}, delayMs: 300 });
    await waitFor('completion', async () => (await queue.get(id))?.status === 'completed');
    expect(ranAt - enqueuedAt).to.be.at.least(290);
  });

  it('refuses unknown types, bad org ids and a type defined twice', async () => {
    const queue = createJobQueue({ knex: database.db.knex, dialect: database.db.dialect, logger: quietLogger(), redisPrefix: 'unused:' });
    queue.define('test.once', async () => null);
    expect(() => queue.define('test.once', async () => null)).to.throw(/defined twice/);
    expect(() => queue.define('test.bad', async () => null, { attempts: 0 })).to.throw(/attempts/);
    const missing = await queue.enqueue('test.missing', { orgId: ORG_A, payload: {} }).catch((err: Error) => err.message);
    expect(missing).to.match(/not defined/);
    const badOrg = await queue.enqueue('test.once', { orgId: 'acme', payload: {} }).catch((err: Error) => err.message);
    expect(badOrg).to.match(/orgId/);
    await queue.close();
  });
});
