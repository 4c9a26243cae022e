// The mixed workload: one run per arm in which every request is drawn at random, 90 % reads over
// several filters and search terms and 10 % writes, so that the engine's cached totals are
// invalidated all the time. Latency is recorded per kind of request; after every round the
// totals the engine reports are checked against a count(*) run directly on the database.
import type { AutocannonRequest } from 'autocannon';
import type { Filters } from './db-probe.js';
import { JSON_TYPE, nextPatient, phoneOf, VersionPool, type Arm, type ArmKey, type BenchCase, type Summary, type Workload } from './cases.js';
import type { KindStats } from './measure.js';
import { log, sleep } from './processes.js';
import { percentile, pick, weighted } from './stats.js';

export type MixedKind = 'get' | 'list' | 'search' | 'post' | 'patch';

export const MIX: readonly (readonly [MixedKind, number])[] = [['get', 40], ['list', 30], ['search', 20], ['post', 5], ['patch', 5]];

/** The list requests of the mix: each a filter set, sorted by last name, 50 a page, with the total. */
export const LIST_FILTERS: Filters[] = [{ status: 'active' }, { status: 'inactive' }, { gender: 'female' }, { status: 'active', gender: 'male' }];

const listQuery = (f: Filters) => `${new URLSearchParams(f)}&sort=last_name&limit=50`;
const searchQuery = (term: string) => `search=${encodeURIComponent(term)}&limit=50`;

export interface TotalsCheck {
  checked: number;
  wrong: { arm: ArmKey; query: string; engine: number | string; database: number }[];
}

export interface MixedCase extends BenchCase {
  totals: TotalsCheck;
}

/**
 * `p99Target` (ms) applies to list and search when given (the large phase), together with exact
 * totals; without it the case is reported without a target.
 */
export function mixedCase(w: Workload, arms: ArmKey[], p99Target?: number): MixedCase {
  const totals: TotalsCheck = { checked: 0, wrong: [] };
  const c: MixedCase = {
    key: 'mixed',
    label: 'mixed 90 % reads / 10 % writes',
    arms,
    totals,
    target: p99Target === undefined ? undefined : {
      text: `list and search p99 ≤ ${p99Target} ms, every total exact`,
      met: (e: Summary) => !!e.kinds && e.kinds.list.p99 <= p99Target && e.kinds.search.p99 <= p99Target && totals.checked > 0 && totals.wrong.length === 0,
    },
    load: (arm) => mixedLoad(w, arm),
    async afterRound(roundArms: Arm[]) {
      await sleep(500); // requests cut off at the end of a run may still be committing
      for (const arm of roundArms.filter((a) => a.key !== 'bare')) await checkTotals(w, arm, totals);
    },
  };
  return c;
}

async function mixedLoad(w: Workload, arm: Arm) {
  const draw = weighted(MIX);
  const latencies: Record<MixedKind, number[]> = { get: [], list: [], search: [], post: [], patch: [] };
  const failures: Record<MixedKind, number> = { get: 0, list: 0, search: 0, post: 0, patch: 0 };
  const pool = await VersionPool.open(arm.data.probe, 'patients', arm.data.patchPool);
  let patches = 0;
  const p = arm.prefix;
  const request: AutocannonRequest = {
    method: 'GET',
    setupRequest: (req, context) => {
      const kind = draw();
      context.kind = kind;
      const get = (path: string) => ({ ...req, method: 'GET', path, headers: { ...arm.auth }, body: '' });
      const send = (method: string, path: string, body: string) => ({ ...req, method, path, headers: { ...arm.auth, ...JSON_TYPE }, body });
      let out: AutocannonRequest;
      switch (kind) {
        case 'get': out = get(`${p}/patients/${pick(arm.data.ids)}`); break;
        case 'list': out = get(`${p}/patients?${listQuery(pick(LIST_FILTERS))}`); break;
        case 'search': out = get(`${p}/patients?${searchQuery(pick(w.prefixes))}`); break;
        case 'post': out = send('POST', `${p}/patients`, nextPatient(w, arm.key)); break;
        case 'patch': {
          const entry = pool.checkout();
          context.entry = entry;
          out = send('PATCH', `${p}/patients/${entry.id}`, JSON.stringify({ base_version: entry.version, ...phoneOf(++patches) }));
          break;
        }
      }
      // Stamped last: the request is written to the socket right after this returns.
      context.started = performance.now();
      return out;
    },
    onResponse: (status, body, context) => {
      const kind = context.kind as MixedKind | undefined;
      if (!kind) return;
      latencies[kind].push(performance.now() - context.started);
      if (status >= 300) failures[kind]++;
      if (context.entry) pool.release(context.entry, status, body);
      context.kind = context.entry = undefined;
    },
  };
  const kinds = () => Object.fromEntries(MIX.map(([k]) => [k, {
    n: latencies[k].length,
    p50: percentile(latencies[k], 50),
    p99: percentile(latencies[k], 99),
    non2xx: failures[k],
  } satisfies KindStats]));
  return { request, kinds };
}

/** Every list filter and search term of the mix, asked of the engine at rest and counted directly. */
async function checkTotals(w: Workload, arm: Arm, totals: TotalsCheck): Promise<void> {
  const queries = [
    ...LIST_FILTERS.map((f) => ({ query: listQuery(f), count: () => arm.data.probe.count(f) })),
    ...w.prefixes.map((term) => ({ query: searchQuery(term), count: () => arm.data.probe.countSearch(term) })),
  ];
  for (const { query, count } of queries) {
    const res = await fetch(`${arm.server.url}${arm.prefix}/patients?${query}`, { headers: arm.auth });
    const text = await res.text();
    let engine: number | string;
    try {
      engine = res.ok ? Number(JSON.parse(text).total_count) : `HTTP ${res.status}`;
    } catch {
      engine = 'unreadable response';
    }
    const database = await count();
    totals.checked++;
    if (engine !== database) {
      totals.wrong.push({ arm: arm.key, query, engine, database });
      log(`TOTAL WRONG on ${arm.key}: ?${query} engine ${engine}, database ${database}`);
    }
  }
}
