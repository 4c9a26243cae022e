// `npm run bench`: the engine against a lean hand-written baseline, in one process tree.
//
// 1. Standard phase: seeds BENCH_PATIENTS patients into a fresh SQLite file through the engine's
//    bulk path (bulkCreateRecords), starts the engine (compiled, as `npm start` runs it) and the
//    lean baseline (bench/bare-server.ts: Koa + better-sqlite3 prepared statements) on it, each in
//    a child process, and drives them from this process with autocannon. With
//    BENCH_DATABASE_URL, the same patients are also seeded into a fresh PostgreSQL database and
//    the engine on PostgreSQL joins the patient cases as a third arm.
//    The patient-chart cases run in the same phase on the same engine: custom field filters and
//    sorts against the same request on a native column, the medical summary against a plain GET
//    (bench/lib/chart.ts), and at the end bulk imports through POST /patients/bulk, on SQLite
//    and on PostgreSQL.
// 2. Large phase: a fresh SQLite file with BENCH_LARGE_PATIENTS patients (seeded in slices of
//    10,000); the read-only list with its total and the mixed workload, engine against baseline.
// 3. Request log: the engine's GET by id with the log on against the same build with
//    REQUEST_LOG=off (case request-log, in the standard phase), and BENCH_REQUEST_LOG_ROWS calls
//    written through the log's batched writer into a fresh SQLite file (and the PostgreSQL
//    database, with BENCH_DATABASE_URL) before the admin dashboard's usage summary is timed
//    (case log-summary).
// 4. The report: bench/results/latest.md (and the raw numbers in latest.json), also printed.
//
// Every case runs BENCH_ROUNDS rounds; within a round each case runs on each arm in turn, the
// order rotating from round to round (engine, bare · bare, engine · …), each run a warm-up and a
// measurement: req/s, p50, p99, the server's CPU ms per response (/proc/<pid>/stat), and the CPU
// the rest of the machine used meanwhile (/proc/stat minus this process, its servers and their
// database processes). A round disturbed by other processes is left out of the medians. After
// every round of the mixed workload each of its list and search totals is checked against a
// count(*) run on the database directly.
//
// Environment (all optional):
//   BENCH_PATIENTS        patients of the standard phase (default 100000, at least 1000)
//   BENCH_LARGE_PATIENTS  patients of the large phase (default 1000000; 0 skips the phase)
//   BENCH_ROUNDS          rounds (default 3)
//   BENCH_DURATION        seconds measured per case, arm and round (default 15)
//   BENCH_WARMUP          seconds of unrecorded warm-up before each measurement (default 2)
//   BENCH_CONNECTIONS     concurrent connections (default 10)
//   BENCH_DISTURBED_CPU   CPU of other processes, in % of one core, above which a measurement
//                         is disturbed (default 15)
//   BENCH_DATABASE_URL    a PostgreSQL server (postgres://user@host:5432/db): the PostgreSQL arm
//                         runs in a database of its own created there (emr_bench_<pid>, through
//                         the server's `postgres` database) and dropped at the end
//   BENCH_REDIS_URL       Redis for the engine on PostgreSQL (keys under emr-bench-<pid>:,
//                         deleted at the end)
//   BENCH_REQUEST_LOG_ROWS calls in the request log before the usage summary is timed (default
//                         1000000; 0 skips the step)
//   BENCH_CASES           only these cases, comma-separated: get, list, search, mixed, post,
//                         patch, post-hooked, patch-hooked, field-filter, field-filter-cached,
//                         field-sort, field-sort-cached, medical-summary, import, request-log, log-summary
//   BENCH_TMPDIR          where the SQLite files go (default the system's temporary directory)
//   BENCH_IMPORT_ROWS     rows of the bulk import run as a job (default 100000; 0 skips it, else
//                         more than the sync limit of 1000)
//   BENCH_CHART_PATIENTS  patients given 200 chart rows for the medical-summary case (default 10)
//   BENCH_CPU_PROF        a directory: the engine servers run with node --cpu-prof and write
//                         their profile there when they stop (see bench/profile-top.ts)
//
// A trial run: BENCH_PATIENTS=5000 BENCH_LARGE_PATIENTS=0 BENCH_DURATION=2 BENCH_WARMUP=1
// BENCH_ROUNDS=1 npm run bench (or `npm run bench:smoke`).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { lifecycleStart, patientRows } from '../seeds/generators.js';
import { chartCases, measureImports, setupChart, SINCE_KEY, TIER_KEY, type ChartSetup, type ImportResult } from './lib/chart.js';
import { listCase, standardCases, type Arm, type ArmData, type ArmKey, type BenchCase, type Workload } from './lib/cases.js';
import { postgresProbe, sqliteProbe, type DbProbe } from './lib/db-probe.js';
import type { Accounting } from './lib/measure.js';
import { mixedCase } from './lib/mixed.js';
import { commOf, memoryOf } from './lib/proc.js';
import { atCleanup, buildServers, cleanupAll, handleSignals, interrupted, log, ROOT, runningServers, startFlags, startServer, stopServer, type Server } from './lib/processes.js';
import { rawResults, renderReport, type PhaseResult, type RssRow, type SeedingRow } from './lib/report.js';
import { runRounds } from './lib/rounds.js';
import { requestLogCase, requestLogRead, type LogReadResult } from './lib/request-log.js';
import { ORG, seed, type Seeded } from './lib/seed.js';
import { benchRedisPrefix, createBenchDatabase, localRedisPid } from './lib/services.js';
import { commandLine, readSettings, redact } from './lib/settings.js';

const s = readSettings();
if (s.largePatients > 0 && s.largePatients < 1000) throw new Error('BENCH_LARGE_PATIENTS must be 0 or at least 1000');
const SEED_TARGET = 20_000; // rows/s through bulkCreateRecords on SQLite
const MIXED_P99_TARGET = 50; // ms, list and search of the mixed workload at the large size

const IMPORT_TARGET = 20_000; // rows/s of a bulk import job through POST /patients/bulk on SQLite
const SYNC_IMPORT_ROWS = 1000; // the route's sync limit
if (s.importRows > 0 && s.importRows <= SYNC_IMPORT_ROWS) throw new Error(`BENCH_IMPORT_ROWS must be 0 or more than ${SYNC_IMPORT_ROWS} (the sync limit): a job`);

const CHART_KEYS = ['field-filter', 'field-filter-cached', 'field-sort', 'field-sort-cached', 'medical-summary'];
const CASE_KEYS = ['get', 'list', 'search', 'mixed', 'post', 'patch', 'post-hooked', 'patch-hooked', ...CHART_KEYS, 'import', 'request-log', 'log-summary'];
const STANDARD_KEYS = CASE_KEYS.filter((k) => k !== 'log-summary');
const unknownCases = s.cases.filter((c) => !CASE_KEYS.includes(c));
if (unknownCases.length) throw new Error(`BENCH_CASES: unknown ${unknownCases.join(', ')} (known: ${CASE_KEYS.join(', ')})`);
const wanted = (key: string) => !s.cases.length || s.cases.includes(key);

/** GET ids, PATCH pools (one per arm sharing the database) and note ids of one database. */
async function armData(probe: DbProbe, patchArms: number, notes: boolean): Promise<ArmData[]> {
  const ids = await probe.randomPatientIds(10_000);
  const poolSize = Math.min(1000, Math.floor(ids.length / patchArms));
  const noteIds = notes ? { hooked: await probe.ids('bench_notes'), plain: await probe.ids('bench_plain_notes') } : undefined;
  return Array.from({ length: patchArms }, (_, i) => ({ probe, ids, patchPool: ids.slice(i * poolSize, (i + 1) * poolSize), notes: noteIds }));
}

async function start(name: string, script: string, env: Record<string, string>): Promise<Server> {
  // The engine runs with npm start's Node flags; the bare server with Node's defaults.
  const engine = name.startsWith('engine');
  const profile = engine && s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(s.cpuProfDir)}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  const server = await startServer(name, script, env, engine ? [...startFlags(), ...profile] : []);
  log(`${name}: ${server.url} (pid ${server.pid})`);
  return server;
}

function accounting(pg?: { probe: DbProbe; redisPid?: number }): Accounting {
  return {
    servers: runningServers,
    async helpers() {
      if (!pg) return [];
      const backends = (await pg.probe.backendPids()).filter((pid) => commOf(pid) === 'postgres');
      return pg.redisPid ? [...backends, pg.redisPid] : backends;
    },
  };
}

async function main() {
  handleSignals();
  const loadAtStart = os.loadavg()[0];
  const tmp = mkdtempSync(path.join(s.tmpdir, 'emr-bench-'));
  atCleanup('remove the temporary files', () => rmSync(tmp, { recursive: true, force: true }));
  const build = buildServers();
  // POST bodies start a patient as a create may (active or prospective; plugins/patient-chart).
  const postBodies = patientRows(2000, 4242).map((b) => lifecycleStart(b).body);
  const seeding: SeedingRow[] = [];
  const phases: PhaseResult[] = [];
  const rss: RssRow[] = [];
  const imports: ImportResult[] = [];
  const logReads: LogReadResult[] = [];
  let pgUrl: string | undefined;
  const versions: string[] = [];
  const notes: string[] = [];
  const auth = (seeded: Seeded) => ({ authorization: `Bearer ${seeded.apiKey}` });
  const prefixOf = `/api/v1/${ORG}`;
  // The bare server writes straight into its tables, around the engine's count keys and caches:
  // it gets a copy of the seeded file of its own, so neither arm's writes disturb the other's
  // totals.
  const bareCopy = (file: string) => {
    const copy = file.replace(/\.sqlite$/, '-bare.sqlite');
    const db = new Database(file);
    db.pragma('wal_checkpoint(TRUNCATE)'); // everything in the main file before it is copied
    db.close();
    copyFileSync(file, copy);
    return copy;
  };
  /** The bare arm reads its PATCH pools' versions from its own copy. */
  const bareProbe = (file: string, orgId: string) => {
    const p = sqliteProbe(file, orgId);
    atCleanup('close the bare copy\'s probe', () => p.close());
    return p;
  };
  const seedRow = (label: string, x: Seeded, target?: number): SeedingRow => ({ label, patients: x.patients, seconds: x.seconds, rowsPerSecond: x.rowsPerSecond, generateSeconds: x.generateSeconds, target });
  const engineRss = (label: string, server: Server, startRss: number) => {
    const m = memoryOf(server.pid);
    rss.push({ label, start: startRss, end: m.rss, peak: m.peak });
  };

  // --- Standard phase ---------------------------------------------------------------------
  if (STANDARD_KEYS.some(wanted)) {
    const file = path.join(tmp, 'standard.sqlite');
    const seeded = await seed({ databaseUrl: `sqlite:${file}` }, s.patients, { notes: true, label: 'SQLite' });
    seeding.push(seedRow(`SQLite, ${s.patients.toLocaleString('en-US')} patients`, seeded, SEED_TARGET));
    const probe = sqliteProbe(file, seeded.orgId);
    atCleanup('close the SQLite probe', () => probe.close());
    versions.push(`SQLite ${await probe.version()} (better-sqlite3, WAL)`);

    let pg: { url: string; seeded: Seeded; probe: DbProbe; redisPrefix?: string; redisPid?: number } | undefined;
    if (s.databaseUrl) {
      const url = await createBenchDatabase(s.databaseUrl);
      pgUrl = url;
      const redisPrefix = s.redisUrl ? benchRedisPrefix(s.redisUrl) : undefined;
      const pgSeeded = await seed({ databaseUrl: url, redisUrl: s.redisUrl, redisPrefix }, s.patients, { notes: false, label: 'PostgreSQL' });
      seeding.push(seedRow(`PostgreSQL, ${s.patients.toLocaleString('en-US')} patients`, pgSeeded));
      const pgProbe = postgresProbe(url, pgSeeded.orgId);
      atCleanup('close the PostgreSQL probe', () => pgProbe.close());
      const redisPid = s.redisUrl ? await localRedisPid(s.redisUrl) : undefined;
      pg = { url, seeded: pgSeeded, probe: pgProbe, redisPrefix, redisPid };
      versions.push(`PostgreSQL ${await pgProbe.version()} ${s.redisUrl ? `with Redis (${redact(s.redisUrl)})` : 'without Redis'}`);
      notes.push(`The engine on PostgreSQL ran in a fresh database (emr_bench_${process.pid} on ${redact(s.databaseUrl)}) seeded with the same patients; ${s.redisUrl ? `with Redis${redisPid ? '' : ' (not on this machine: its CPU is not counted)'}` : 'without Redis (other processes\' commits reach its caches by NOTIFY)'}. PostgreSQL's own background processes (WAL writer, checkpointer, autovacuum) serve the whole server and count as other processes in the disturbance check.`);
    }

    const engine = await start('engine', build.engine, { DATABASE_URL: `sqlite:${file}`, REDIS_URL: '', REQUEST_LOG: 'on' });
    const bareFile = bareCopy(file);
    const bare = await start('bare', build.bare, { BENCH_DB: bareFile, BENCH_ORG: ORG });
    // The same build on the same file with the request log off: only the log differs (GETs only).
    const nolog = wanted('request-log') ? await start('engine-nolog', build.engine, { DATABASE_URL: `sqlite:${file}`, REDIS_URL: '', REQUEST_LOG: 'off' }) : undefined;
    const pgServer = pg ? await start('engine-pg', build.engine, { DATABASE_URL: pg.url, REDIS_URL: s.redisUrl ?? '', BENCH_REDIS_PREFIX: pg.redisPrefix ?? '' }) : undefined;
    const rssStart = { engine: memoryOf(engine.pid).rss, pg: pgServer ? memoryOf(pgServer.pid).rss : 0 };

    const [engineData, bareData] = await armData(probe, 2, true);
    bareData.probe = bareProbe(bareFile, seeded.orgId);
    const arms: Partial<Record<ArmKey, Arm>> = {
      engine: { key: 'engine', server: engine, prefix: prefixOf, auth: auth(seeded), data: engineData },
      bare: { key: 'bare', server: bare, prefix: '', auth: {}, data: bareData },
      unhooked: { key: 'unhooked', server: engine, prefix: prefixOf, auth: auth(seeded), data: engineData },
    };
    if (nolog) arms.nolog = { key: 'nolog', server: nolog, prefix: prefixOf, auth: auth(seeded), data: engineData };
    if (pg && pgServer) arms.pg = { key: 'pg', server: pgServer, prefix: prefixOf, auth: auth(pg.seeded), data: (await armData(pg.probe, 1, false))[0] };
    const prefixes = await searchPrefixes(probe);
    const w: Workload = { prefixes, postBodies, pg: !!pg };
    // Reads first, then the mixed workload, then the writes (which grow the table).
    let chart: ChartSetup | undefined;
    if (CHART_KEYS.some(wanted)) {
      chart = await setupChart(arms.engine!, file, seeded.orgId, s.chartPatients);
      arms.reference = { ...arms.engine!, key: 'reference' };
      notes.push(`Patient chart cases: custom fields \`${TIER_KEY}\` (select, 5 options) and \`${SINCE_KEY}\` (date) created through the API, a value of each for all ${chart.withValues.toLocaleString('en-US')} patients and a home location (one of 5, created through the API) written directly into the file after one value written through the API (${chart.loadSeconds.toFixed(1)} s, not measured); ${chart.summaryPatients.length} patients with 200 chart rows each (40 allergies, 50 medications, 40 problems, 40 vital signs, 30 alerts) created through the API. The reference arm is the same engine asked the native request. Uncached cases make every request distinct: the filter adds a \`chart_number[ne]=\` that no patient has (no index can use it, so the plans stay), the sort asks the page after one of 5,000 cursors at random places (no total on cursor pages).`);
    }
    // Reads first (the chart's after the standard ones), then the mixed workload, then the writes (which grow the table).
    const [get, list, search, ...writes] = standardCases(w);
    // The request-log case first: both of its processes start it as cold as each other.
    const cases: BenchCase[] = [requestLogCase(), get, list, search, ...(chart ? chartCases(chart) : []), mixedCase(w, pg ? ['engine', 'bare', 'pg'] : ['engine', 'bare']), ...writes].filter((c) => wanted(c.key));
    const runs = await runRounds(short(s.patients), cases, arms, s, accounting(pg));
    phases.push({ name: 'standard', patients: s.patients, runs, prefixes });
    engineRss(`engine on SQLite, ${short(s.patients)} patients`, engine, rssStart.engine);
    if (pgServer) engineRss(`engine on PostgreSQL, ${short(s.patients)} patients`, pgServer, rssStart.pg);
    // Imports last: they add BENCH_IMPORT_ROWS + rounds × 1,000 patients to each database.
    if (wanted('import')) {
      const o = { syncRows: SYNC_IMPORT_ROWS, syncRounds: s.rounds, jobRows: s.importRows };
      imports.push({ ...(await measureImports(arms.engine!, 'SQLite', { ...o, helpers: async () => [] })), target: IMPORT_TARGET });
      if (pgServer && arms.pg) imports.push(await measureImports(arms.pg, 'PostgreSQL', { ...o, helpers: accounting(pg).helpers }));
    }
    for (const server of [engine, bare, nolog, pgServer]) if (server) await stopServer(server);
  }

  // --- Request log: the usage summary over a filled log ------------------------------------
  if (s.requestLogRows > 0 && wanted('log-summary')) {
    const file = path.join(tmp, 'request-log.sqlite');
    logReads.push(await requestLogRead({ databaseUrl: `sqlite:${file}` }, s.requestLogRows, 'SQLite'));
    if (s.databaseUrl) {
      pgUrl ??= await createBenchDatabase(s.databaseUrl);
      logReads.push(await requestLogRead({ databaseUrl: pgUrl }, s.requestLogRows, 'PostgreSQL'));
    }
  }

  // --- Large phase ------------------------------------------------------------------------
  if (s.largePatients > 0 && (wanted('list') || wanted('mixed'))) {
    const file = path.join(tmp, 'large.sqlite');
    const seeded = await seed({ databaseUrl: `sqlite:${file}` }, s.largePatients, { notes: false, label: `SQLite ${short(s.largePatients)}` });
    seeding.push(seedRow(`SQLite, ${s.largePatients.toLocaleString('en-US')} patients`, seeded));
    const probe = sqliteProbe(file, seeded.orgId);
    atCleanup('close the large SQLite probe', () => probe.close());
    const engine = await start('engine', build.engine, { DATABASE_URL: `sqlite:${file}`, REDIS_URL: '' });
    const bareFile = bareCopy(file);
    const bare = await start('bare', build.bare, { BENCH_DB: bareFile, BENCH_ORG: ORG });
    const rssStart = memoryOf(engine.pid).rss;
    const [engineData, bareData] = await armData(probe, 2, false);
    bareData.probe = bareProbe(bareFile, seeded.orgId);
    const arms: Partial<Record<ArmKey, Arm>> = {
      engine: { key: 'engine', server: engine, prefix: prefixOf, auth: auth(seeded), data: engineData },
      bare: { key: 'bare', server: bare, prefix: '', auth: {}, data: bareData },
    };
    const prefixes = await searchPrefixes(probe);
    const w: Workload = { prefixes, postBodies, pg: false };
    const cases = [listCase(['engine', 'bare']), mixedCase(w, ['engine', 'bare'], MIXED_P99_TARGET)].filter((c) => wanted(c.key));
    const runs = await runRounds(short(s.largePatients), cases, arms, s, accounting());
    phases.push({ name: 'large', patients: s.largePatients, runs, prefixes });
    engineRss(`engine on SQLite, ${short(s.largePatients)} patients`, engine, rssStart);
    for (const server of [engine, bare]) await stopServer(server);
  }

  // --- Report -----------------------------------------------------------------------------
  notes.push(
    'bare: Koa with a hand router and better-sqlite3 on a copy of the same seeded file, one statement per case prepared at start, the JSON body read by hand on POST and PATCH only, the same columns as the engine returns (booleans as stored); no auth, validation, permissions, audit or caching; list and search run a naive count(*) on every request, and its search matches last_name only (the engine\'s matches every prefix-search field of the patient definition). Both servers run compiled JavaScript.',
    'CPU ms/req is the server process\'s user + system CPU over the measurement divided by its responses: far less sensitive than req/s to what else the machine runs; 1000 / CPU ms/req is roughly what one dedicated core could serve.',
    'The note cases compare the engine with itself: a resource with a beforeChange hook and an event subscriber against its twin without them (what the pipeline\'s seams cost).',
    `Mixed workload: ${'40 % GET by id, 30 % list with its total (status=active, status=inactive, gender=female, status=active&gender=male; sort=last_name, 50 a page), 20 % prefix search (the search prefixes below, 50 a page), 5 % POST, 5 % PATCH with base_version from a pool'}; every write invalidates the engine's cached totals and pages.`,
    'The request-log case runs GET by id on the engine (request log on, its default) and on a second engine process of the same build on the same file with REQUEST_LOG=off; every other engine case runs with the log on.',
    'POST runs add patients, so later rounds run on a larger table ("patients at start" in the table of every run).',
  );
  if (s.cases.length) notes.push(`Only the cases ${s.cases.join(', ')} were run (BENCH_CASES).`);
  const environment = [
    new Date().toISOString(),
    `Node ${process.version}`,
    `${os.cpus()[0]?.model.trim() ?? 'CPU'} × ${os.cpus().length}`,
    `Linux ${os.release()}`,
    `load average ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end`,
    `commit ${gitCommit()}`,
    `${s.connections} connections`,
    `${s.duration} s per run after ${s.warmup} s warm-up`,
    `${s.rounds} round${s.rounds === 1 ? '' : 's'}`,
    ...versions,
  ].join(' · ');
  const input = { command: commandLine(), environment, seeding, phases, imports, rss, logReads, disturbedCpuPct: s.disturbedCpuPct, notes };
  const { markdown, unmet } = renderReport(input);
  const outDir = path.join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'latest.md'), markdown);
  writeFileSync(path.join(outDir, 'latest.json'), `${JSON.stringify(rawResults(input), null, 2)}\n`);
  process.stdout.write(`\n${markdown}`);
  log(`written to bench/results/latest.md and latest.json; ${unmet.length ? `${unmet.length} targets not met` : 'all targets met'}`);
}

/** The most common last-name prefixes of 3, 4 and 5 letters, ten of each (typeahead searches). */
async function searchPrefixes(probe: DbProbe): Promise<string[]> {
  const out: string[] = [];
  for (const n of [3, 4, 5]) out.push(...(await probe.commonPrefixes(n, 10)));
  return out;
}

const short = (n: number) => (n >= 1_000_000 && n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'app', 'definitions', 'plugins', 'seeds', 'bench'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

main().then(
  async () => {
    await cleanupAll();
    process.exit(0);
  },
  async (err) => {
    if (interrupted()) return; // the signal handler cleans up and exits
    console.error(err instanceof Error ? err.stack : err);
    await cleanupAll();
    process.exit(1);
  },
);
