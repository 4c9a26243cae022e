import { expect } from 'chai';
import { ResultCache } from '../../app/db/write-generations.js';

const query = (sql: string, bindings: unknown[] = []) => `${sql}|${JSON.stringify(bindings)}`;

describe('ResultCache', () => {
  it('computes a query once per generation and again after the generation moves', async () => {
    const cache = new ResultCache<number>(10);
    let calls = 0;
    const compute = async () => ++calls;
    expect(await cache.through('t', 'g1', query('select 1'), compute)).to.equal(1);
    expect(await cache.through('t', 'g1', query('select 1'), compute)).to.equal(1);
    expect(await cache.through('t', 'g1', query('select 1', [2]), compute)).to.equal(2); // other bindings
    expect(await cache.through('t', 'g2', query('select 1'), compute)).to.equal(3);
    expect(await cache.through('t', 'g1', query('select 1'), compute)).to.equal(4); // g1's entries are gone
  });

  it('never caches without a generation', async () => {
    const cache = new ResultCache<number>(10);
    let calls = 0;
    await cache.through('t', null, query('q'), async () => ++calls);
    await cache.through('t', null, query('q'), async () => ++calls);
    expect(calls).to.equal(2);
  });

  it('keeps each table to its own generation and holds at most max entries', async () => {
    const cache = new ResultCache<string>(2);
    let calls = 0;
    const compute = async () => `v${++calls}`;
    await cache.through('a', 'g', query('q1'), compute);
    await cache.through('b', 'g', query('q1'), compute);
    await cache.through('b', 'g', query('q2'), compute); // evicts a/q1, the oldest
    expect(calls).to.equal(3);
    expect(await cache.through('b', 'g', query('q1'), compute)).to.equal('v2');
    expect(await cache.through('a', 'g', query('q1'), compute)).to.equal('v4');
  });

  it('does not store a value computed while a newer generation arrived', async () => {
    const cache = new ResultCache<string>(10);
    let release!: () => void;
    const slow = cache.through('t', 'g1', query('q'), () => new Promise<string>((r) => (release = () => r('old'))));
    await cache.through('t', 'g2', query('q'), async () => 'new');
    release();
    expect(await slow).to.equal('old');
    expect(await cache.through('t', 'g2', query('q'), async () => 'recomputed')).to.equal('new');
    expect(await cache.through('t', 'g1', query('q'), async () => 'fresh')).to.equal('fresh');
  });

  it('runs a query once for the requests that miss while it is being computed, and shares its failure', async () => {
    const cache = new ResultCache<number>(10);
    let calls = 0;
    let release!: (n: number) => void;
    const slow = () => {
      calls++;
      return new Promise<number>((resolve) => (release = resolve));
    };
    const waiting = [cache.through('t', 'g', 'q', slow), cache.through('t', 'g', 'q', slow), cache.through('t', 'g', 'q', slow)];
    release(7);
    expect(await Promise.all(waiting)).to.deep.equal([7, 7, 7]);
    expect(calls).to.equal(1);
    expect(await cache.through('t', 'g', 'q', slow)).to.equal(7); // cached now
    const failing = () => Promise.reject(new Error('boom'));
    const both = await Promise.allSettled([cache.through('t', 'g', 'bad', failing), cache.through('t', 'g', 'bad', failing)]);
    expect(both.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
    let again = 0;
    expect(await cache.through('t', 'g', 'bad', async () => ++again)).to.equal(1); // a failure is not cached
  });
});
