// The patient-chart cases: custom field filters and sorts against the same request on a native
// column, the medical summary against a plain GET of the patient, and bulk imports (sync and as a
// job). The custom fields, locations and chart rows are created through the engine's API; the
// 100,000-odd custom values and home locations are then written straight into the SQLite file
// (setup, not the measured path), copying the stored form of a value the API wrote.
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { lifecycleStart, patientRows } from '../../seeds/generators.js';
import { JSON_TYPE, type Arm, type BenchCase, type Summary } from './cases.js';
import { cpuBetween, cpuSnapshot } from './proc.js';
import { log, sleep } from './processes.js';
import { median, pick } from './stats.js';

export const TIER_KEY = 'bench_tier';
export const SINCE_KEY = 'bench_since';
const TIERS = ['Bronze', 'Silver', 'Gold', 'Platinum', 'Diamond'] as const;
const LOCATIONS = 5;
/** Chart rows of each medical-summary patient, by section. */
export const CHART_MIX = { allergies: 40, medications: 50, diseases: 40, 'vital-signs': 40, alerts: 30 } as const;
const CURSORS = 5000;

export interface ChartSetup {
  tiers: readonly string[];
  locationIds: string[];
  /** Patients with CHART_MIX rows each. */
  summaryPatients: string[];
  /** `after=` cursors at random places of each order (a page each, none cached). */
  cursors: { custom: string[]; native: string[] };
  /** Patients holding a value of each custom field. */
  withValues: number;
  /** Seconds the direct load of values and locations took. */
  loadSeconds: number;
}

type Json = Record<string, any>;

async function call(arm: Arm, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${arm.server.url}${arm.prefix}${path}`, {
    method,
    headers: { ...arm.auth, ...(body === undefined ? {} : JSON_TYPE) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 400)}`);
  return text ? JSON.parse(text) : {};
}

/** A small seeded generator, so that every run spreads the values alike. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const SINCE_FROM = Date.UTC(2000, 0, 1);
const SINCE_DAYS = 26 * 365;

/**
 * Creates the custom fields (a 5-option select and a date), 5 locations and the chart catalogs
 * through the API; gives every live patient a value of both fields and a home location spread
 * evenly (straight into the file); gives `summaryPatients` patients CHART_MIX rows each through
 * the API; and prepares the random cursors of both sorts.
 */
export async function setupChart(arm: Arm, file: string, orgId: string, summaryPatients: number): Promise<ChartSetup> {
  const tier = (await call(arm, 'POST', '/patient-field-definitions', { name: 'Bench tier', key: TIER_KEY, field_type: 'select', dropdown_options: TIERS })).data;
  const since = (await call(arm, 'POST', '/patient-field-definitions', { name: 'Bench since', key: SINCE_KEY, field_type: 'date' })).data;
  const locationIds: string[] = [];
  for (let i = 1; i <= LOCATIONS; i++) locationIds.push((await call(arm, 'POST', '/locations', { name: `Bench site ${i}` })).data.id);

  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  try {
    const ids = db.prepare('select id from patients where org_id = ? and deleted_at is null order by id').pluck().all(orgId) as string[];
    const rand = mulberry32(20_261_201);
    const sinceOf = () => new Date(SINCE_FROM + Math.floor(rand() * SINCE_DAYS) * DAY).toISOString().slice(0, 10);
    // The first patient's values go through the API: every other row copies their stored form.
    await call(arm, 'PUT', `/patients/${ids[0]}/field-values`, { values: { [TIER_KEY]: TIERS[0], [SINCE_KEY]: sinceOf() } });
    const templates = db.prepare('select * from patient_field_values where patient_id = ?').all(ids[0]) as Json[];
    const template = (fieldId: string) => {
      const t = templates.find((r) => r.field_definition_id === fieldId);
      if (!t) throw new Error(`chart setup: no stored value of field ${fieldId} after the API wrote it`);
      return t;
    };
    const tierRow = template(tier.id);
    const sinceRow = template(since.id);
    const columns = Object.keys(tierRow);
    const insert = db.prepare(`insert into patient_field_values (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`);
    const setLocation = db.prepare('update patients set location_id = ? where id = ?');
    const t = performance.now();
    db.transaction(() => {
      for (const [i, id] of ids.entries()) {
        setLocation.run(locationIds[Math.floor(rand() * LOCATIONS)], id);
        if (i === 0) continue;
        insert.run(...columns.map((c) => (c === 'id' ? uuidv7() : c === 'patient_id' ? id : c === 'value_text' ? TIERS[Math.floor(rand() * TIERS.length)] : tierRow[c])));
        insert.run(...columns.map((c) => (c === 'id' ? uuidv7() : c === 'patient_id' ? id : c === 'value_date' ? sinceOf() : sinceRow[c])));
      }
    })();
    const loadSeconds = (performance.now() - t) / 1000;
    log(`chart setup: ${ids.length.toLocaleString('en-US')} patients given a ${TIER_KEY}, a ${SINCE_KEY} and a location in ${loadSeconds.toFixed(1)} s (written directly)`);

    const chosen = Array.from({ length: Math.min(summaryPatients, ids.length - 1) }, (_, i) => ids[1 + Math.floor((i * (ids.length - 1)) / summaryPatients)]);
    const t2 = performance.now();
    await chartRows(arm, chosen);
    log(`chart setup: ${chosen.length} patients given ${Object.values(CHART_MIX).reduce((a, b) => a + b, 0)} chart rows each through the API in ${((performance.now() - t2) / 1000).toFixed(1)} s`);

    // Cursors of the engine's own making carry the sort's signature: random positions reuse it.
    const cursorsOf = async (sort: string, rows: { id: string; v: unknown }[]) => {
      const first = (await call(arm, 'GET', `/patients?sort=${sort}&limit=1`)).page_info.end_cursor as string;
      const { s } = JSON.parse(Buffer.from(first, 'base64url').toString('utf8')) as { s: string };
      return rows.map((r) => Buffer.from(JSON.stringify({ s, v: [r.v], id: r.id })).toString('base64url'));
    };
    const custom = await cursorsOf(`field.${SINCE_KEY}`, db.prepare('select patient_id as id, value_date as v from patient_field_values where field_definition_id = ? and value_date is not null order by random() limit ?').all(since.id, CURSORS) as { id: string; v: unknown }[]);
    const native = await cursorsOf('date_of_birth', db.prepare('select id, date_of_birth as v from patients where org_id = ? and deleted_at is null and date_of_birth is not null order by random() limit ?').all(orgId, CURSORS) as { id: string; v: unknown }[]);
    return { tiers: TIERS, locationIds, summaryPatients: chosen, cursors: { custom, native }, withValues: ids.length, loadSeconds };
  } finally {
    db.close();
  }
}

/** CHART_MIX rows for each patient through the API (patients in parallel, each one's rows in turn). */
async function chartRows(arm: Arm, patients: string[]): Promise<void> {
  const catalog = async (path: string, n: number, label: string) => {
    const out: string[] = [];
    for (let i = 1; i <= n; i++) out.push((await call(arm, 'POST', `/${path}`, { name: `Bench ${label} ${i}` })).data.id);
    return out;
  };
  const allergyDefs = await catalog('allergy-definitions', 5, 'allergen');
  const diseaseDefs = await catalog('disease-definitions', 5, 'disease');
  const medicationDefs = await catalog('medication-definitions', 5, 'medication');
  const alertDefs = await catalog('patient-alert-definitions', 3, 'alert');
  const day = (i: number) => new Date(Date.UTC(2020, 0, 1) + i * 7 * DAY).toISOString().slice(0, 10);
  const bodies: [string, Json][] = [];
  for (let i = 0; i < CHART_MIX.allergies; i++) bodies.push(['allergies', { allergy_definition_id: allergyDefs[i % 5], reaction: 'Hives', status_is_active: i % 8 !== 0 }]);
  for (let i = 0; i < CHART_MIX.medications; i++) {
    const past = i % 10 >= 7;
    bodies.push(['medications', { medication_definition_id: medicationDefs[i % 5], dosage: '1 tablet', frequency: 'once daily', date_start: day(i), ...(past ? { status: 'completed', date_stop: day(i + 4) } : {}) }]);
  }
  for (let i = 0; i < CHART_MIX.diseases; i++) bodies.push(['diseases', { disease_definition_id: diseaseDefs[i % 5], date_start: day(i), ...(i % 4 === 3 ? { problem_status: 'resolved', date_stop: day(i + 2) } : {}) }]);
  for (let i = 0; i < CHART_MIX['vital-signs']; i++) bodies.push(['vital-signs', { date_taken: day(i), pulse: 60 + (i % 30) }]);
  for (let i = 0; i < CHART_MIX.alerts; i++) bodies.push(['alerts', { alert_definition_id: alertDefs[i % 3], is_urgent: i % 5 === 0 }]);
  const queue = [...patients];
  const worker = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) for (const [path, body] of bodies) await call(arm, 'POST', `/patients/${id}/${path}`, body);
  };
  await Promise.all(Array.from({ length: Math.min(4, patients.length) }, worker));
}

/** Distinct across every run of the benchmark: no two requests share a cache key. */
let unique = 0;

const ratio = (min: number) => (e: Summary, b: Summary) => e.rps >= min * b.rps;
const get = (arm: Arm, path: () => string) => ({ request: { method: 'GET' as const, headers: arm.auth, setupRequest: (req: Json) => ({ ...req, path: `${arm.prefix}${path()}` }) } });

/**
 * The chart's read cases: each asks the engine (arm `engine`) one request and the same engine
 * (arm `reference`) its native counterpart, in alternation like every other case. The uncached
 * variants make every request distinct (a `chart_number[ne]=` that excludes no patient of the
 * filter, or a cursor at a random place) so that neither arm is answered from the list caches;
 * the cached ones repeat a handful of requests, as the read-only list case does.
 */
export function chartCases(c: ChartSetup): BenchCase[] {
  const filter = (arm: Arm) => (arm.key === 'engine' ? `field.${TIER_KEY}=${encodeURIComponent(pick(c.tiers))}` : `location_id=${pick(c.locationIds)}`);
  const half = { text: '≥ 0.5× native', met: ratio(0.5) };
  return [
    {
      key: 'field-filter',
      label: `list 50 field.${TIER_KEY}=<option> + total, uncached`,
      reference: 'location_id=<location>',
      arms: ['engine', 'reference'],
      target: half,
      load: async (arm) => get(arm, () => `/patients?${filter(arm)}&chart_number[ne]=X-${++unique}&limit=50`),
    },
    {
      key: 'field-filter-cached',
      label: `list 50 field.${TIER_KEY}=<option> + total, cached (read-only)`,
      reference: 'location_id=<location>',
      arms: ['engine', 'reference'],
      target: half,
      load: async (arm) => get(arm, () => `/patients?${filter(arm)}&limit=50`),
    },
    {
      key: 'field-sort',
      label: `50 sorted by field.${SINCE_KEY} after a random cursor, uncached`,
      reference: 'sort=date_of_birth',
      arms: ['engine', 'reference'],
      target: half,
      load: async (arm) => get(arm, () => (arm.key === 'engine'
        ? `/patients?sort=field.${SINCE_KEY}&limit=50&after=${pick(c.cursors.custom)}`
        : `/patients?sort=date_of_birth&limit=50&after=${pick(c.cursors.native)}`)),
    },
    {
      key: 'field-sort-cached',
      label: `first 50 sorted by field.${SINCE_KEY} + total, cached (read-only)`,
      reference: 'sort=date_of_birth',
      arms: ['engine', 'reference'],
      target: half,
      load: async (arm) => get(arm, () => (arm.key === 'engine' ? `/patients?sort=field.${SINCE_KEY}&limit=50` : '/patients?sort=date_of_birth&limit=50')),
    },
    {
      key: 'medical-summary',
      label: `medical summary of a patient with ${Object.values(CHART_MIX).reduce((a, b) => a + b, 0)} chart rows`,
      reference: 'GET the patient',
      arms: ['engine', 'reference'],
      target: { text: 'p99 ≤ 3× GET', met: (e, b) => e.p99 <= 3 * Math.max(1, b.p99) },
      load: async (arm) => get(arm, () => `/patients/${pick(c.summaryPatients)}${arm.key === 'engine' ? '/medical-summary' : ''}`),
    },
  ];
}

export interface ImportRun {
  /** 'SQLite' or 'PostgreSQL'. */
  database: string;
  mode: 'sync' | 'job';
  rows: number;
  created: number;
  failed: number;
  seconds: number;
  rowsPerSecond: number;
  /** Engine server CPU per row (ms). */
  cpuMsPerRow: number;
  /** PostgreSQL's (and Redis's) CPU per row (ms), for the engine on PostgreSQL. */
  dbCpuMsPerRow: number;
}

export interface ImportResult {
  database: string;
  /** Rows/s the job is held to, if any. */
  target?: number;
  sync: ImportRun[];
  job?: ImportRun;
}

let imported = 0;

/** New patient bodies for an import, with chart numbers no other import or POST of the run uses. */
function importBodies(n: number): unknown[] {
  const batch = ++imported;
  return patientRows(n, 700_000 + batch, { chartPrefix: `IM${batch}-` }).map((b) => lifecycleStart(b).body);
}

/**
 * POST /patients/bulk: `syncRounds` imports of `syncRows` rows answered at once, then one of
 * `jobRows` rows staged as a job and polled at GET /jobs/{id} until it is done. The time runs
 * from sending the request to the answer (sync) or to the first poll that finds the job
 * finished (job), so it includes reading and staging the body, validation, audit and events.
 */
export async function measureImports(arm: Arm, database: string, o: { syncRows: number; syncRounds: number; jobRows: number; helpers: () => Promise<number[]> }): Promise<ImportResult> {
  const measureOne = async (mode: 'sync' | 'job', rows: number): Promise<ImportRun> => {
    const body = JSON.stringify({ rows: importBodies(rows) });
    const helpers = await o.helpers();
    const before = cpuSnapshot([arm.server.pid, ...helpers]);
    const t = performance.now();
    const res = await fetch(`${arm.server.url}${arm.prefix}/patients/bulk`, { method: 'POST', headers: { ...arm.auth, ...JSON_TYPE }, body });
    const answer = (await res.json()) as Json;
    let counts: Json;
    if (mode === 'sync') {
      if (res.status !== 200) throw new Error(`sync import of ${rows} rows: HTTP ${res.status} ${JSON.stringify(answer).slice(0, 400)}`);
      counts = answer.data;
    } else {
      if (res.status !== 202) throw new Error(`import of ${rows} rows: HTTP ${res.status}, expected 202 ${JSON.stringify(answer).slice(0, 400)}`);
      const id = answer.data.id as string;
      let lastLog = Date.now();
      for (;;) {
        await sleep(200);
        const job = (await call(arm, 'GET', `/jobs/${id}`)).data;
        if (job.status === 'completed') {
          counts = job.result;
          break;
        }
        if (job.status === 'failed') throw new Error(`import job ${id} failed: ${JSON.stringify(job.error).slice(0, 400)}`);
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          log(`${database} import job: ${job.progress ?? '?'} % after ${((performance.now() - t) / 1000).toFixed(0)} s`);
        }
      }
    }
    const seconds = (performance.now() - t) / 1000;
    const allHelpers = [...new Set([...helpers, ...(await o.helpers())])];
    const after = cpuSnapshot([arm.server.pid, ...allHelpers]);
    const only = (pids: number[]) => new Map([...after].filter(([pid]) => pids.includes(pid)));
    const serverMs = cpuBetween(before, only([arm.server.pid]));
    const dbMs = cpuBetween(before, only(allHelpers));
    const run: ImportRun = {
      database, mode, rows, created: Number(counts.created ?? 0), failed: Number(counts.failed ?? 0), seconds, rowsPerSecond: rows / seconds,
      cpuMsPerRow: serverMs / rows, dbCpuMsPerRow: dbMs / rows,
    };
    log(`${database} import ${mode} ${rows.toLocaleString('en-US')} rows: ${seconds.toFixed(1)} s, ${Math.round(run.rowsPerSecond)} rows/s, engine CPU ${run.cpuMsPerRow.toFixed(3)} ms/row${allHelpers.length ? ` (+ db ${run.dbCpuMsPerRow.toFixed(3)})` : ''}, created ${run.created}, failed ${run.failed}`);
    return run;
  };
  const sync: ImportRun[] = [];
  for (let i = 0; i < o.syncRounds; i++) sync.push(await measureOne('sync', o.syncRows));
  const job = o.jobRows > 0 ? await measureOne('job', o.jobRows) : undefined;
  return { database, sync, job };
}

/** The median sync run (by rows/s). */
export function medianSync(r: ImportResult): ImportRun | undefined {
  if (!r.sync.length) return undefined;
  const m = median(r.sync.map((s) => s.rowsPerSecond));
  return r.sync.reduce((best, s) => (Math.abs(s.rowsPerSecond - m) < Math.abs(best.rowsPerSecond - m) ? s : best));
}
