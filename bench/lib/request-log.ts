// The request log's two benchmark steps: what writing it costs the API (GET by id with the log on
// against the same build with REQUEST_LOG=off, on the same database), and how fast the dashboard's
// usage summary reads once the log holds BENCH_REQUEST_LOG_ROWS calls.
import { createApiKey } from '../../app/auth/api-keys.js';
import { createOrg } from '../../app/auth/orgs.js';
import type { Runtime } from '../../app/runtime.js';
import { usageSummary } from '../../app/usage/summary.js';
import type { BenchCase, Summary } from './cases.js';
import { log } from './processes.js';
import { openRuntime, type SeedTarget } from './seed.js';
import { median } from './stats.js';

/** GET by id on the engine (log on) and on its twin process with REQUEST_LOG=off. */
export function requestLogCase(): BenchCase {
  return {
    key: 'request-log',
    label: 'GET patient by id, request log on (vs. off)',
    arms: ['engine', 'nolog'],
    target: { text: '≤ 5 % fewer req/s than with the log off', met: (on: Summary, off: Summary) => on.rps >= 0.95 * off.rps },
    load: async (arm) => {
      const ids = arm.data.ids;
      return {
        request: {
          method: 'GET',
          headers: arm.auth,
          setupRequest: (req) => ({ ...req, path: `${arm.prefix}/patients/${ids[Math.floor(Math.random() * ids.length)]}` }),
        },
      };
    },
  };
}

export interface LogReadResult {
  label: string;
  rows: number;
  /** Rows/s through the request log's batched writer (rows and roll-ups). */
  writeRowsPerSecond: number;
  /** Summary of one organization, ms: median and slowest of the timed reads. */
  orgMs: { median: number; max: number };
  /** Summary of every organization (a super admin's dashboard). */
  allMs: { median: number; max: number };
  /** The summary's total for the one organization, checked against a count of its rows. */
  orgCalls: number;
  orgRows: number;
}

export const SUMMARY_TARGET_MS = 50;
const ORGS = 10;
const KEYS_PER_ORG = 4;
const DAYS = 28; // inside the 30-day retention, so the start-up purge keeps every row
const READS = 20;
const ROUTES = ['/api/v1/:org/patients', '/api/v1/:org/patients/:id', '/api/v1/:org/patients/search', '/api/v1/:org/patients/:patient_id/allergies', '/api/v1/:org/tickets'];

/** A small deterministic generator: every database of the same size holds the same calls. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/**
 * Writes `rows` calls (over ORGS organizations, KEYS_PER_ORG keys each, the last DAYS days, mostly
 * 2xx with some 4xx and 5xx) through the runtime's request log, a batch at a time, then times the
 * usage summary for one organization and for all.
 */
export async function requestLogRead(target: SeedTarget, rows: number, label: string): Promise<LogReadResult> {
  const rt: Runtime = await openRuntime(target);
  try {
    const orgs = [];
    for (let i = 0; i < ORGS; i++) {
      const org = await createOrg(rt, { slug: `usage-${i}`, name: `Usage Clinic ${i}` });
      const keys = [];
      for (let k = 0; k < KEYS_PER_ORG; k++) {
        const key = await createApiKey(rt, { orgSlugs: [org.slug], partnerName: `Usage Partner ${k}`, scopes: ['*'], name: `usage-${i}-${k}` });
        keys.push({ id: key.id, partnerId: (await rt.db.knex('api_keys').where({ id: key.id }).first('partner_id')).partner_id as string });
      }
      orgs.push({ id: org.id, keys });
    }
    const random = lcg(20240601);
    const now = Date.now();
    const batch = rt.requestLog.options.batchSize;
    const started = performance.now();
    let lastLog = Date.now();
    for (let n = 0; n < rows; n++) {
      const org = orgs[Math.floor(random() * ORGS)];
      const key = org.keys[Math.floor(random() * KEYS_PER_ORG)];
      const r = random();
      const status = r < 0.9 ? 200 : r < 0.93 ? 201 : r < 0.97 ? 404 : r < 0.99 ? 422 : 500;
      rt.requestLog.record({
        // In time order, as a live log fills: a batch touches the roll-ups of one day or two.
        at: now - DAYS * 86_400_000 + Math.floor(((n + random()) / rows) * DAYS * 86_400_000), method: status === 201 ? 'POST' : 'GET', route: ROUTES[Math.floor(random() * ROUTES.length)], status,
        durationMs: 1 + random() * 20, orgId: org.id, partnerId: key.partnerId, keyId: key.id, ip: `10.0.${Math.floor(random() * 255)}.${Math.floor(random() * 255)}`,
      });
      if ((n + 1) % batch === 0) await rt.requestLog.flush();
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`${label}: ${(n + 1).toLocaleString('en-US')} / ${rows.toLocaleString('en-US')} request-log rows`);
      }
    }
    await rt.requestLog.flush();
    const seconds = (performance.now() - started) / 1000;
    if (rt.requestLog.dropped) throw new Error(`request log: ${rt.requestLog.dropped} rows dropped while seeding`);
    await rt.db.dialect.refreshStatistics(rt.db.knex, 'request_logs');
    await rt.db.dialect.refreshStatistics(rt.db.knex, 'request_usage_days');
    log(`${label}: wrote ${rows.toLocaleString('en-US')} request-log rows in ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s)`);

    const time = async (orgId?: string) => {
      await usageSummary(rt, { orgId }); // warm
      const ms: number[] = [];
      for (let i = 0; i < READS; i++) {
        const t = performance.now();
        await usageSummary(rt, { orgId });
        ms.push(performance.now() - t);
      }
      return { median: median(ms), max: Math.max(...ms) };
    };
    const orgMs = await time(orgs[0].id);
    const allMs = await time();
    const summary = await usageSummary(rt, { orgId: orgs[0].id, days: DAYS + 1 });
    const counted = await rt.db.knex('request_logs').where('org_id', orgs[0].id).count({ n: '*' });
    log(`${label}: usage summary of one organization ${orgMs.median.toFixed(1)} ms (max ${orgMs.max.toFixed(1)}), of all ${allMs.median.toFixed(1)} ms (max ${allMs.max.toFixed(1)})`);
    return { label, rows, writeRowsPerSecond: rows / seconds, orgMs, allMs, orgCalls: summary.totals.calls, orgRows: Number(counted[0].n) };
  } finally {
    await rt.close();
  }
}
