import { expect } from 'chai';
import { createJobQueue } from '../../app/jobs/index.js';
import { openJobsDatabase, ORG_A, quietLogger, type TestDatabase } from './support.js';

// Runs without Redis: a port where nothing listens stands for a Redis that is down.
describe('jobs: BullMQ backend while Redis does not answer', () => {
  let database: TestDatabase;

  before(async () => {
    database = await openJobsDatabase();
  });
  after(async () => {
    await database?.close();
  });

  it('still stores the job at once, fails start() with a clear error, and closes promptly', async () => {
    const queue = createJobQueue({
      knex: database.db.knex, dialect: database.db.dialect, logger: quietLogger(), redisUrl: 'redis://127.0.0.1:1', redisPrefix: 'down:', shutdownMs: 300,
    });
    queue.define('test.waiting', async () => null);
    const began = Date.now();
    const job = await queue.enqueue('test.waiting', { orgId: ORG_A, payload: {} });
    expect(job.status).to.equal('queued');
    expect(Date.now() - began, 'enqueue does not wait for Redis').to.be.below(500);

    const failure = await queue.start().then(() => null, (err: Error) => err.message);
    expect(failure).to.match(/Redis does not answer/);
    const closing = Date.now();
    await queue.close();
    expect(Date.now() - closing).to.be.below(2000);
    expect(await database.db.knex('jobs').where({ id: job.id }).first()).to.include({ status: 'queued' });
  });
});
