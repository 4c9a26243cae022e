import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createJobQueue } from '../../app/jobs/index.js';
import { queueContract } from './queue-contract.js';
import {
  deleteRedisKeys, openJobsDatabase, ORG_A, QueueFactory, quietLogger, REDIS_URL, redisAnswers, testRedisPrefix, waitFor, type TestDatabase,
} from './support.js';

describe(`jobs: BullMQ backend${REDIS_URL ? '' : ' (skipped: set REDIS_URL to run)'}`, function () {
  let database: TestDatabase;
  let queues: QueueFactory;
  let prefix: string;

  before(async function () {
    if (!REDIS_URL) return this.skip();
    if (!(await redisAnswers(REDIS_URL))) {
      console.warn(`    skipped: Redis at ${REDIS_URL} does not answer`);
      return this.skip();
    }
    database = await openJobsDatabase();
    prefix = testRedisPrefix();
    queues = new QueueFactory(() => ({
      knex: database.db.knex, dialect: database.db.dialect, logger: quietLogger(), redisUrl: REDIS_URL, redisPrefix: prefix, leaseMs: 2000, shutdownMs: 2000,
    }));
  });
  afterEach(async () => {
    if (!queues) return;
    await queues.closeAll();
    await database.db.knex('jobs').delete();
  });
  after(async () => {
    await database?.close();
    if (REDIS_URL && prefix) await deleteRedisKeys(REDIS_URL, prefix);
  });

  queueContract({ kind: 'bullmq', database: () => database, queues: () => queues });

  it('keeps the payload out of Redis: BullMQ gets the row id and type only', async () => {
    const queue = queues.make();
    queue.define('test.private', async () => null);
    const { id } = await queue.enqueue('test.private', { orgId: ORG_A, payload: { name: 'Delacroix-Secret', dob: '1970-01-01' } });
    const redis = new Redis(REDIS_URL!);
    try {
      const key = `${prefix.replace(/:$/, '')}:jobs:${id}`;
      const stored = await waitFor('the BullMQ job', async () => {
        const hash = await redis.hgetall(key);
        return Object.keys(hash).length ? hash : undefined;
      });
      expect(stored.name).to.equal('test.private');
      expect(stored.data).to.equal('{}');
      expect(JSON.stringify(stored)).not.to.include('Delacroix');
    } finally {
      redis.disconnect();
    }
  });

  it('hands over queued rows BullMQ never received (enqueued by the database runner, or before a crash)', async () => {
    const databaseOnly = createJobQueue({ knex: database.db.knex, dialect: database.db.dialect, logger: quietLogger(), redisPrefix: prefix });
    databaseOnly.define('test.orphan', async () => null);
    const { id } = await databaseOnly.enqueue('test.orphan', { orgId: ORG_A, payload: {} });
    await databaseOnly.close();

    const queue = queues.make();
    queue.define('test.orphan', async () => 'handed over');
    await queue.start();
    const done = await waitFor('completion', async () => ((await queue.get(id))?.status === 'completed' ? queue.get(id) : undefined));
    expect(done).to.include({ result: 'handed over', attempts: 1 });
  });

  it('hands over again a queued job that Redis lost (restarted without persistence)', async () => {
    const enqueuer = queues.make();
    enqueuer.define('test.lost', async () => null);
    const { id } = await enqueuer.enqueue('test.lost', { orgId: ORG_A, payload: {} });
    await enqueuer.close();
    await deleteRedisKeys(REDIS_URL!, prefix);
    await database.db.knex('jobs').where({ id }).update({ run_at: new Date(Date.now() - 5 * 60_000).toISOString() });

    const queue = queues.make();
    queue.define('test.lost', async () => 'found again');
    await queue.start();
    const done = await waitFor('completion', async () => ((await queue.get(id))?.status === 'completed' ? queue.get(id) : undefined));
    expect(done).to.include({ result: 'found again', attempts: 1 });
  });
});
