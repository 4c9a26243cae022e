// Seeding a benchmark database through the engine's own bulk path (bulkCreateRecords:
// validation, audit and events included), in slices of generated bodies so that memory stays
// bounded at any size. The time of bulkCreateRecords alone is the seeding rate.
import { createApiKey } from '../../app/auth/api-keys.js';
import { createOrg } from '../../app/auth/orgs.js';
import { systemContext } from '../../app/auth/system-context.js';
import { loadConfig } from '../../app/core/config.js';
import { bulkCreateRecords } from '../../app/operations/bulk-create.js';
import { createRuntime, type Runtime } from '../../app/runtime.js';
import { patientRows } from '../../seeds/generators.js';
import pipelinePlugin from '../pipeline-plugin.js';
import { log } from './processes.js';

export const ORG = 'bench';
/** Bodies are generated this many at a time, each slice with a seed of its own. */
const SLICE = 10_000;
const BASE_SEED = 100_000;
const CHUNK = 1000;
/** Notes of each kind for the pipeline-cost cases. */
export const NOTES = 1000;

export interface SeedTarget {
  /** `sqlite:<file>` or a postgres:// URL. */
  databaseUrl: string;
  redisUrl?: string;
  redisPrefix?: string;
}

export interface Seeded {
  orgId: string;
  /** A key with every scope on the organization. */
  apiKey: string;
  patients: number;
  /** Seconds spent in bulkCreateRecords for the patients. */
  seconds: number;
  rowsPerSecond: number;
  /** Seconds spent generating the bodies (not in the rate). */
  generateSeconds: number;
}

/** Opens a runtime on the target the way the servers do (with the benchmark's plugin). */
export function openRuntime(target: SeedTarget): Promise<Runtime> {
  const config = loadConfig({
    DATABASE_URL: target.databaseUrl,
    SQLITE_DRIVER: 'better-sqlite3',
    REDIS_URL: target.redisUrl ?? '',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    SEED_DEMO: 'false',
  });
  // Without plugins/: seeding is a data load of the generated statuses (inactive, deceased, archived
  // included), which the lifecycle plugin would only let the engine reach one action per patient.
  return createRuntime(config, { pluginDirs: [], plugins: [pipelinePlugin], redisPrefix: target.redisPrefix });
}

/**
 * Creates the organization, `patients` patients (`CH-000001`…, slice i generated with seed
 * BASE_SEED + i, so every database of the same size holds the same patients), optionally the
 * notes, and an API key.
 */
export async function seed(target: SeedTarget, patients: number, opts: { notes: boolean; label: string }): Promise<Seeded> {
  const rt = await openRuntime(target);
  try {
    const org = await createOrg(rt, { slug: ORG, name: 'Benchmark Clinic' });
    const ctx = systemContext(rt, org, 'bench-seed');
    let seconds = 0;
    let generateSeconds = 0;
    let created = 0;
    let lastLog = Date.now();
    for (let start = 0, slice = 0; start < patients; start += SLICE, slice++) {
      let t = performance.now();
      const items = patientRows(Math.min(SLICE, patients - start), BASE_SEED + slice, { startNumber: start + 1, chartPrefix: 'CH-' });
      generateSeconds += (performance.now() - t) / 1000;
      t = performance.now();
      const result = await bulkCreateRecords(rt, { resource: 'patient', ctx, items, chunkSize: CHUNK });
      seconds += (performance.now() - t) / 1000;
      if (result.failed) {
        const bad = result.results.find((r) => r.status === 'failed')!;
        throw new Error(`seeding: ${result.failed} rows rejected, e.g. #${start + bad.index}: ${bad.error?.message} ${JSON.stringify(bad.error?.details ?? [])}`);
      }
      created += result.created;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`${opts.label}: ${created.toLocaleString('en-US')} / ${patients.toLocaleString('en-US')} patients (${Math.round(created / seconds)} rows/s)`);
      }
    }
    if (opts.notes) {
      const noteRows = Array.from({ length: NOTES }, (_, i) => ({ title: `Note ${i}`, body: 'Seeded for the benchmark.' }));
      for (const resource of ['bench-note', 'bench-plain-note']) {
        const notes = await bulkCreateRecords(rt, { resource, ctx, items: noteRows, chunkSize: CHUNK });
        if (notes.failed) throw new Error(`seeding ${resource}: ${notes.failed} rows rejected`);
      }
    }
    await rt.events.idle();
    const key = await createApiKey(rt, { orgSlugs: [ORG], partnerName: 'Benchmark', scopes: ['*'], name: 'bench' });
    const rowsPerSecond = created / seconds;
    log(`${opts.label}: seeded ${created.toLocaleString('en-US')} patients through bulkCreateRecords in ${seconds.toFixed(1)} s (${Math.round(rowsPerSecond)} rows/s; generating the bodies took ${generateSeconds.toFixed(1)} s more)`);
    return { orgId: org.id, apiKey: key.key, patients: created, seconds, rowsPerSecond, generateSeconds };
  } finally {
    await rt.close();
  }
}
