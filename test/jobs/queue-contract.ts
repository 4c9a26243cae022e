import { expect } from 'chai';
import type { JobContext, JobQueue } from '../../app/jobs/index.js';
import { capturingLogger, gate, ORG_A, ORG_B, sleep, waitFor, type QueueFactory, type TestDatabase } from './support.js';

export interface ContractEnv {
  kind: 'database' | 'bullmq';
  database(): TestDatabase;
  queues(): QueueFactory;
}

const finished = (queue: JobQueue, id: string) => waitFor(`job ${id} to finish`, async () => {
  const job = await queue.get(id);
  return job && (job.status === 'completed' || job.status === 'failed') ? job : undefined;
});

/** Processes `items` items, recording each finished one in the checkpoint so a new attempt skips it. */
async function processItems(ctx: JobContext, total: number, doItem: (item: number) => Promise<void>): Promise<{ processed: number }> {
  const done = [...((ctx.checkpoint as { done?: number[] } | null)?.done ?? [])];
  for (let item = 1; item <= total; item++) {
    if (done.includes(item)) continue;
    await doItem(item);
    done.push(item);
    await ctx.progress((done.length / total) * 100, { done });
  }
  return { processed: total };
}

/** What both backends must do alike. */
export function queueContract(env: ContractEnv): void {
  it('runs an enqueued job to completion, showing progress while it runs', async () => {
    const queue = env.queues().make();
    expect(queue.kind).to.equal(env.kind);
    const halfway = gate();
    queue.define('test.sum', async (ctx) => {
      const { numbers } = ctx.job.payload as { numbers: number[] };
      await ctx.progress(50, { seen: numbers.length });
      await halfway.promise;
      return { sum: numbers.reduce((a, b) => a + b, 0) };
    });
    await queue.start();
    const queued = await queue.enqueue('test.sum', { orgId: ORG_A, payload: { numbers: [1, 2, 3] } });
    expect(queued).to.include({ org_id: ORG_A, type: 'test.sum', status: 'queued', progress: 0, attempts: 0, max_attempts: 5, dedupe_key: null, finished_at: null });
    expect(queued.payload).to.deep.equal({ numbers: [1, 2, 3] });

    const running = await waitFor('progress 50', async () => {
      const job = await queue.get(queued.id);
      return job?.progress === 50 ? job : undefined;
    });
    expect(running).to.include({ status: 'running', attempts: 1 });
    expect(running.checkpoint).to.deep.equal({ seen: 3 });

    halfway.open();
    const done = await finished(queue, queued.id);
    expect(done).to.include({ status: 'completed', progress: 100, attempts: 1, error: null });
    expect(done.result).to.deep.equal({ sum: 6 });
    expect(Date.parse(done.finished_at!)).to.be.at.least(Date.parse(done.created_at));
    expect(await queue.get('not-a-uuid')).to.equal(null);
    expect(await queue.get('0190a0a0-0000-7000-8000-0000000000ff')).to.equal(null);
  });

  it('retries a failing job with growing backoff, then fails it with {code, message} only', async () => {
    const queue = env.queues().make();
    const startedAt: number[] = [];
    queue.define('test.flaky', async () => {
      startedAt.push(Date.now());
      throw Object.assign(new Error('The lab system did not answer'), { code: 'lab_unavailable' });
    }, { attempts: 3, backoffMs: 60 });
    await queue.start();
    const { id } = await queue.enqueue('test.flaky', { orgId: ORG_A, payload: {} });

    const afterFirst = await waitFor('the first failure', async () => {
      const job = await queue.get(id);
      return job?.status === 'queued' && job.attempts === 1 ? job : undefined;
    });
    expect(afterFirst.error).to.deep.equal({ code: 'lab_unavailable', message: 'The lab system did not answer' });
    expect(Date.parse(afterFirst.run_at)).to.be.greaterThan(Date.parse(afterFirst.created_at));

    const failed = await finished(queue, id);
    expect(failed).to.include({ status: 'failed', attempts: 3 });
    expect(failed.error).to.deep.equal({ code: 'lab_unavailable', message: 'The lab system did not answer' });
    expect(failed.finished_at).to.be.a('string');
    expect(startedAt).to.have.length(3);
    const [first, second] = [startedAt[1] - startedAt[0], startedAt[2] - startedAt[1]];
    expect(first, 'first backoff').to.be.at.least(60 - 5);
    expect(second, 'second backoff').to.be.at.least(120 - 5);
    await sleep(150);
    expect(startedAt, 'no attempt after the last').to.have.length(3);
  });

  it('keeps SQL, stacks and patient data out of stored errors and out of the logs', async () => {
    const { logger, lines } = capturingLogger();
    const queue = env.queues().make({ logger });
    const { knex } = env.database().db;
    queue.define('test.bad-query', async (ctx) => {
      const { name } = ctx.job.payload as { name: string };
      await knex.raw('select * from no_such_table where last_name = ?', [name]);
    }, { attempts: 1 });
    queue.define('test.bad-record', async (ctx) => {
      throw new Error(`No chart for ${(ctx.job.payload as { name: string }).name}`);
    }, { attempts: 1 });
    await queue.start();
    const query = await queue.enqueue('test.bad-query', { orgId: ORG_A, payload: { name: 'Delacroix-Secret' } });
    const record = await queue.enqueue('test.bad-record', { orgId: ORG_A, payload: { name: 'Delacroix-Secret' } });

    const queryFailed = await finished(queue, query.id);
    expect(queryFailed.error).to.deep.equal({ code: 'database_error', message: 'A database query failed while running the job' });
    const recordFailed = await finished(queue, record.id);
    expect(recordFailed.error).to.deep.equal({ code: 'job_failed', message: 'No chart for Delacroix-Secret' });

    const logs = lines.join('');
    expect(logs).to.include(query.id).and.to.include('database_error').and.to.include('test.bad-record');
    expect(logs).not.to.include('Delacroix');
    expect(logs).not.to.match(/no_such_table|select \*|\bat .*\.ts:\d+/);
  });

  it('returns the first job for a second enqueue with the same dedupe key (per org)', async () => {
    const queue = env.queues().make();
    const runs: string[] = [];
    queue.define('test.export', async (ctx) => { runs.push(ctx.job.id); });
    const first = await queue.enqueue('test.export', { orgId: ORG_A, payload: { n: 1 }, dedupeKey: 'export-2026-11' });
    const again = await queue.enqueue('test.export', { orgId: ORG_A, payload: { n: 2 }, dedupeKey: 'export-2026-11' });
    expect(again.id).to.equal(first.id);
    expect(again.payload).to.deep.equal({ n: 1 });
    expect(again.dedupe_key).to.equal('export-2026-11');
    const otherOrg = await queue.enqueue('test.export', { orgId: ORG_B, payload: { n: 3 }, dedupeKey: 'export-2026-11' });
    expect(otherOrg.id).not.to.equal(first.id);

    await queue.start();
    await finished(queue, first.id);
    await finished(queue, otherOrg.id);
    const afterwards = await queue.enqueue('test.export', { orgId: ORG_A, payload: { n: 4 }, dedupeKey: 'export-2026-11' });
    expect(afterwards).to.include({ id: first.id, status: 'completed' });
    await sleep(100);
    expect(runs.sort()).to.deep.equal([first.id, otherOrg.id].sort());
  });

  it('commits an enqueue with the caller\'s transaction: a rollback leaves no job and runs nothing', async () => {
    const queue = env.queues().make();
    const { knex } = env.database().db;
    const runs: unknown[] = [];
    queue.define('test.notify', async (ctx) => { runs.push(ctx.job.payload); });
    await queue.start();

    const failure = await knex.transaction(async (trx) => {
      await queue.enqueue('test.notify', { orgId: ORG_A, payload: 'thrown', trx });
      throw new Error('the write failed');
    }).catch((err: Error) => err);
    expect(failure).to.be.instanceOf(Error);
    // A rollback without an error settles knex's transaction promise as if it had committed.
    const trx = await knex.transaction();
    await queue.enqueue('test.notify', { orgId: ORG_A, payload: 'rolled back', trx });
    await trx.rollback();

    let committedId = '';
    await knex.transaction(async (trx2) => {
      committedId = (await queue.enqueue('test.notify', { orgId: ORG_A, payload: 'committed', trx: trx2 })).id;
      await sleep(150);
      expect(runs, 'nothing runs before the commit').to.deep.equal([]);
    });
    expect(await finished(queue, committedId)).to.include({ status: 'completed' });
    await sleep(150);
    expect(runs).to.deep.equal(['committed']);
    const rows = await knex('jobs').select('payload');
    expect(rows).to.have.length(1);
  });

  it('resumes an interrupted job from its checkpoint on another queue, doing no item twice', async function () {
    const processed: { item: number; by: string }[] = [];
    const stuck = gate();
    const first = env.queues().make({ leaseMs: 300, shutdownMs: 50 });
    first.define('test.items', (ctx) => processItems(ctx, 8, async (item) => {
      if (item === 4) await new Promise(() => {}); // the runner "dies" in the middle of item 4
      processed.push({ item, by: 'first' });
      if (item === 3) stuck.open();
    }));
    await first.start();
    const { id } = await first.enqueue('test.items', { orgId: ORG_A, payload: {} });
    await stuck.promise;
    await waitFor('the checkpoint of item 3', async () => ((await first.get(id))?.checkpoint as { done?: number[] } | null)?.done?.length === 3);
    await first.close(); // gives up on the stuck handler after shutdownMs
    expect((await first.get(id))!.status).to.equal('running');

    const second = env.queues().make({ leaseMs: 300 });
    let resumedFrom: unknown;
    second.define('test.items', (ctx) => {
      resumedFrom = ctx.checkpoint;
      return processItems(ctx, 8, async (item) => { processed.push({ item, by: 'second' }); });
    });
    await second.start();
    const done = await finished(second, id);
    expect(done).to.include({ status: 'completed', attempts: 2, progress: 100 });
    expect(done.result).to.deep.equal({ processed: 8 });
    expect(resumedFrom).to.deep.equal({ done: [1, 2, 3] });
    expect(processed.map((p) => p.item)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(processed.filter((p) => p.by === 'first').map((p) => p.item)).to.deep.equal([1, 2, 3]);
  });

  it('never runs one job twice when two queues share the database', async () => {
    const runsById = new Map<string, number>();
    const ranOn = { a: 0, b: 0 };
    const handlerFor = (name: 'a' | 'b') => async (ctx: JobContext) => {
      runsById.set(ctx.job.id, (runsById.get(ctx.job.id) ?? 0) + 1);
      ranOn[name]++;
      await sleep(5 + Math.random() * 15);
    };
    const a = env.queues().make({ concurrency: 3, pollMs: 10 });
    const b = env.queues().make({ concurrency: 3, pollMs: 10 });
    a.define('test.race', handlerFor('a'));
    b.define('test.race', handlerFor('b'));
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await a.enqueue('test.race', { orgId: ORG_A, payload: { i } })).id);
    await Promise.all([a.start(), b.start()]);
    for (const id of ids) expect(await finished(a, id)).to.include({ status: 'completed', attempts: 1 });
    await sleep(100);
    expect(runsById.size).to.equal(30);
    expect([...runsById.values()].every((n) => n === 1), 'every job ran exactly once').to.equal(true);
    expect(ranOn.a + ranOn.b).to.equal(30);
  });

  it('close() waits for a running handler and then takes no more jobs', async () => {
    const queue = env.queues().make();
    const ran: number[] = [];
    queue.define('test.slow', async (ctx) => {
      await sleep(200);
      ran.push((ctx.job.payload as { n: number }).n);
      return 'ok';
    });
    await queue.start();
    const { id } = await queue.enqueue('test.slow', { orgId: ORG_A, payload: { n: 1 } });
    await waitFor('the handler to start', async () => (await queue.get(id))?.status === 'running');
    await queue.close();
    expect(ran).to.deep.equal([1]);
    expect(await queue.get(id)).to.include({ status: 'completed', result: 'ok' });

    const later = await env.queues().make().enqueue('test.slow', { orgId: ORG_A, payload: { n: 2 } }).catch((err: Error) => err);
    // The type is defined per queue: an unknown one is refused at enqueue rather than left waiting.
    expect(later).to.be.instanceOf(TypeError);
    const enqueuer = env.queues().make();
    enqueuer.define('test.slow', async () => 'never');
    const waiting = await enqueuer.enqueue('test.slow', { orgId: ORG_A, payload: { n: 3 } });
    await sleep(300);
    expect(ran).to.deep.equal([1]);
    expect(await queue.get(waiting.id)).to.include({ status: 'queued' });
  });
}
