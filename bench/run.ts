// `npm run bench`: seeds 100,000 patients through the engine's bulk path into a fresh SQLite
// file, starts the engine and a bare hand-written Koa + knex server on it (each in a process of
// its own), load-tests both from this process with autocannon and prints how the engine compares
// with the baseline and with its targets. The table is also written to bench/results/latest.md.
//
// Environment: BENCH_DURATION (seconds per case, default 15), BENCH_WARMUP (seconds of
// unrecorded warm-up per case and server, default 2), BENCH_PATIENTS (default 100000),
// BENCH_CONNECTIONS (default 10).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import Database from 'better-sqlite3';
import { createApiKey } from '../app/auth/api-keys.js';
import { createOrg } from '../app/auth/orgs.js';
import { systemContext } from '../app/auth/system-context.js';
import { loadConfig } from '../app/core/config.js';
import { bulkCreateRecords } from '../app/operations/bulk-create.js';
import { createRuntime, type Runtime } from '../app/runtime.js';
import { commonLastNamePrefixes, patientRows } from '../seeds/generators.js';
import pipelinePlugin from './pipeline-plugin.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got '${raw}'`);
  return n;
};
const DURATION = num('BENCH_DURATION', 15);
const WARMUP = num('BENCH_WARMUP', 2);
const PATIENTS = Math.floor(num('BENCH_PATIENTS', 100_000));
const CONNECTIONS = Math.floor(num('BENCH_CONNECTIONS', 10));
const ORG = 'bench';
const MiB = 1024 * 1024;

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// --- child processes ------------------------------------------------------------------------

interface Child {
  name: string;
  proc: ChildProcess;
  url: string;
}

const children: Child[] = [];

/** The engine runs compiled, as in production (`npm start`); the bare baseline on tsx as before. */
function buildEngineServer(): string {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '--build', path.join(ROOT, 'tsconfig.bench.json')], { stdio: 'inherit' });
  return path.join(ROOT, 'bench', '.build', 'bench', 'engine-server.js');
}

function startChild(name: string, script: string, env: Record<string, string>): Promise<Child> {
  return new Promise((resolve, reject) => {
    const args = script.endsWith('.js') ? [script] : ['--import', 'tsx', path.join(ROOT, 'bench', script)];
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const timer = setTimeout(() => reject(new Error(`${name} server did not start within 60 s`)), 60_000);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /LISTENING (\S+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        proc.stdout!.resume(); // keep draining whatever else it prints
        const child = { name, proc, url: m[1] };
        children.push(child);
        resolve(child);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} server exited before listening (code ${code}, signal ${signal})`));
    });
    proc.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function stopChild(child: Child): Promise<void> {
  const { proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
  }
}

/** Resident set size of a process from /proc, in bytes (VmRSS now, VmHWM the peak). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** CPU time (user + system) a process has used so far, in ms: load-independent cost per request. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted after the "(comm)" field.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

let CLK_TCK = 100;
try {
  CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the usual 100
}

// --- load generation ------------------------------------------------------------------------

interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  statuses: string;
  /** CPU time the server process spent per response during the run (ms). */
  cpuPerReq: number;
}

async function load(url: string, request: AutocannonRequest, seconds: number, pid: number): Promise<Measurement> {
  const cpuBefore = cpuMsOf(pid);
  const result: AutocannonResult = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    pipelining: 1,
    timeout: 30,
    requests: [request],
  });
  const statuses = Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}:${s.count}`).join(' ');
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statuses,
    cpuPerReq: (cpuMsOf(pid) - cpuBefore) / Math.max(1, result.requests.total),
  };
}

type Side = 'engine' | 'bare';

interface Case {
  key: string;
  label: string;
  /**
   * What the engine is compared with: the bare server (default), or the engine itself writing a
   * twin resource without the hook and subscriber (what the pipeline's seams cost).
   */
  baseline?: 'bare' | 'unhooked';
  /** A fresh request description for a server (state such as pools lives in its closure). */
  request(side: Side, prefix: string): AutocannonRequest;
  target: string;
  met(engine: Measurement, bare: Measurement): boolean;
}

// --- main -----------------------------------------------------------------------------------

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'emr-bench-'));
  const file = path.join(tmp, 'bench.sqlite');
  let rt: Runtime | undefined;
  let reader: Database.Database | undefined;
  const cleanup = async () => {
    for (const c of children.splice(0)) await stopChild(c).catch(() => {});
    reader?.close();
    reader = undefined;
    if (rt) await rt.close().catch(() => {});
    rt = undefined;
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = () => {
    log('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // 1. Seed through the engine's own bulk path.
    const env = { DATABASE_URL: `sqlite:${file}`, SQLITE_DRIVER: 'better-sqlite3', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000000', SEED_DEMO: 'false' };
    rt = await createRuntime(loadConfig(env), { plugins: [pipelinePlugin] });
    const org = await createOrg(rt, { slug: ORG, name: 'Benchmark Clinic' });
    const ctx = systemContext(rt, org, 'bench-seed');

    let started = Date.now();
    const rows = patientRows(PATIENTS, 100_000);
    const genSeconds = (Date.now() - started) / 1000;
    log(`generated ${PATIENTS} patient bodies in ${genSeconds.toFixed(1)} s`);
    // Typeahead-style prefixes of the most common last names: 3, 4 and 5 letters, 10 of each.
    const prefixes = [3, 4, 5].flatMap((n) => commonLastNamePrefixes(rows, n, 10));

    started = Date.now();
    const slice = 10_000;
    let created = 0;
    for (let i = 0; i < rows.length; i += slice) {
      const result = await bulkCreateRecords(rt, { resource: 'patient', ctx, items: rows.slice(i, i + slice), chunkSize: 1000 });
      if (result.failed) {
        const bad = result.results.find((r) => r.status === 'failed');
        throw new Error(`seeding: ${result.failed} rows rejected, e.g. #${i + bad!.index}: ${bad!.error?.message} ${JSON.stringify(bad!.error?.details ?? [])}`);
      }
      created += result.created;
    }
    const seedSeconds = (Date.now() - started) / 1000;
    const seedRate = created / seedSeconds;
    log(`seeded ${created} patients through bulkCreateRecords in ${seedSeconds.toFixed(1)} s (${Math.round(seedRate)} rows/s)`);
    // Notes for the pipeline-cost PATCH cases: one pool with the hook and subscriber, one without.
    const noteRows = Array.from({ length: 1000 }, (_, i) => ({ title: `Note ${i}`, body: 'Seeded for the benchmark.' }));
    for (const resource of ['bench-note', 'bench-plain-note']) {
      const notes = await bulkCreateRecords(rt, { resource, ctx, items: noteRows, chunkSize: 1000 });
      if (notes.failed) throw new Error(`seeding ${resource}: ${notes.failed} rows rejected`);
    }
    await rt.events.idle();
    const key = await createApiKey(rt, { orgSlugs: [ORG], partnerName: 'Benchmark', scopes: ['*'], name: 'bench' });
    await rt.close();
    rt = undefined;

    reader = new Database(file);
    reader.pragma('journal_mode = WAL');
    reader.pragma('wal_checkpoint(TRUNCATE)');
    const ids = (reader.prepare('select id from patients where org_id = ? and deleted_at is null order by random() limit 10000').all(org.id) as { id: string }[]).map((r) => r.id);
    const postBodies = patientRows(2000, 4242);
    let posted = 0;
    const patchPools: Record<Side, string[]> = { engine: [], bare: [] };

    // 2. The two servers, each in its own process.
    const engine = await startChild('engine', buildEngineServer(), { BENCH_DB: file });
    const bare = await startChild('bare', 'bare-server.ts', { BENCH_DB: file, BENCH_ORG: ORG });
    log(`engine ${engine.url} (pid ${engine.proc.pid}), bare ${bare.url} (pid ${bare.proc.pid})`);
    const rssAtStart = memoryOf(engine.proc.pid!).rss;
    const loadAtStart = os.loadavg()[0].toFixed(2);

    const auth = { authorization: `Bearer ${key.key}` };
    const json = { 'content-type': 'application/json' };
    const headersFor = (side: Side, body = false) => ({ ...(side === 'engine' ? auth : {}), ...(body ? json : {}) });
    const engineHeaders = { ...auth, ...json };
    const notePath = (side: Side) => (side === 'engine' ? 'bench-notes' : 'bench-plain-notes');
    const noteTable = (side: Side) => (side === 'engine' ? 'bench_notes' : 'bench_plain_notes');
    /** Like the patient PATCH case: each request takes a note from a pool and returns it with its new version. */
    const versionedPatch = (pathOf: (side: Side, prefix: string, id: string) => string, tableOf: (side: Side) => string, ids: (side: Side) => string[], headers: (side: Side) => Record<string, string>, bodyOf: (n: number) => Record<string, unknown>) =>
      (side: Side, prefix: string): AutocannonRequest => {
        const pool0 = ids(side);
        const current = new Map((reader!.prepare(`select id, version from ${tableOf(side)} where id in (${pool0.map(() => '?').join(',')})`).all(...pool0) as { id: string; version: number }[]).map((r) => [r.id, r.version]));
        const pool = pool0.map((id) => ({ id, version: current.get(id)! }));
        const free = [...pool];
        let n = 0;
        return {
          method: 'PATCH',
          headers: headers(side),
          setupRequest: (req, context) => {
            const p = free.shift() ?? pick(pool);
            context.record = p;
            n++;
            return { ...req, path: pathOf(side, prefix, p.id), body: JSON.stringify({ base_version: p.version, ...bodyOf(n) }) };
          },
          onResponse: (status, body, context) => {
            const p = context.record as { id: string; version: number } | undefined;
            if (!p) return;
            context.record = undefined;
            try {
              const parsed = JSON.parse(body);
              if (status < 300) p.version = parsed.data.version;
              else if (status === 409) p.version = parsed.details?.[0]?.current_version ?? p.version;
            } catch {
              // keep the version we had
            }
            free.push(p);
          },
        };
      };
    const noteIds: Record<Side, string[]> = {
      engine: (reader.prepare('select id from bench_notes').all() as { id: string }[]).map((r) => r.id),
      bare: (reader.prepare('select id from bench_plain_notes').all() as { id: string }[]).map((r) => r.id),
    };
    const pick = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)];

    const cases: Case[] = [
      {
        key: 'get',
        label: 'GET patient by id',
        request: (side, prefix) => ({
          method: 'GET',
          headers: headersFor(side),
          setupRequest: (req) => ({ ...req, path: `${prefix}/patients/${pick(ids)}` }),
        }),
        target: '≥ 0.6× bare (≈ 5,000 req/s)',
        met: (e, b) => e.rps >= 0.6 * b.rps,
      },
      {
        key: 'list',
        label: 'list 50 status=active sort=last_name + total',
        request: (side, prefix) => ({ method: 'GET', headers: headersFor(side), path: `${prefix}/patients?status=active&sort=last_name&limit=50` }),
        target: '≥ 1,000 req/s, p99 ≤ 30 ms',
        met: (e) => e.rps >= 1000 && e.p99 <= 30,
      },
      {
        key: 'search',
        label: 'search by last-name prefix',
        request: (side, prefix) => ({
          method: 'GET',
          headers: headersFor(side),
          setupRequest: (req) => ({ ...req, path: `${prefix}/patients?search=${encodeURIComponent(pick(prefixes))}&limit=50` }),
        }),
        target: '≥ 800 req/s, p99 ≤ 30 ms',
        met: (e) => e.rps >= 800 && e.p99 <= 30,
      },
      {
        key: 'post',
        label: 'POST a patient',
        request: (side, prefix) => {
          const tag = side === 'engine' ? 'EP' : 'BP';
          return {
            method: 'POST',
            headers: headersFor(side, true),
            setupRequest: (req) => {
              const n = ++posted; // across runs: chart numbers are unique
              const body = { ...postBodies[n % postBodies.length], chart_number: `${tag}-${n}` };
              return { ...req, path: `${prefix}/patients`, body: JSON.stringify(body) };
            },
          };
        },
        target: '≥ 1,200 req/s',
        met: (e) => e.rps >= 1200,
      },
      {
        key: 'patch',
        label: 'PATCH a patient with base_version',
        // Each request checks a patient out of the pool and returns it with the version of its
        // response, so no two connections ever update the same patient with the same base.
        request: versionedPatch((_side, prefix, id) => `${prefix}/patients/${id}`, () => 'patients', (side) => patchPools[side], (side) => headersFor(side, true),
          (n) => ({ mobile_phone: `(416) 555-${String(n % 10000).padStart(4, '0')}` })),
        target: '≥ 1,500 req/s',
        met: (e) => e.rps >= 1500,
      },
      {
        key: 'post-hooked',
        label: 'POST a note with a hook + subscriber (vs. the same without)',
        baseline: 'unhooked',
        request: (side, prefix) => {
          let n = 0;
          return {
            method: 'POST',
            headers: engineHeaders,
            setupRequest: (req) => ({ ...req, path: `${prefix}/${notePath(side)}`, body: JSON.stringify({ title: ` Note ${++n} `, body: 'Written by the benchmark.' }) }),
          };
        },
        target: '≥ 0.9× without (≤ 10 % over)',
        met: (e, b) => e.rps >= 0.9 * b.rps,
      },
      {
        key: 'patch-hooked',
        label: 'PATCH a note with a hook + subscriber (vs. the same without)',
        baseline: 'unhooked',
        request: versionedPatch((side, prefix, id) => `${prefix}/${notePath(side)}/${id}`, noteTable, (side) => noteIds[side], () => engineHeaders, (n) => ({ title: ` Note edited ${n} ` })),
        target: '≥ 0.9× without (≤ 10 % over)',
        met: (e, b) => e.rps >= 0.9 * b.rps,
      },
    ];

    // 3. Load, case by case, engine then bare.
    const results: { c: Case; engine: Measurement; bare: Measurement }[] = [];
    for (const c of cases) {
      if (c.key === 'patch') {
        const pool = (reader.prepare('select id from patients where org_id = ? and deleted_at is null order by random() limit 2000').all(org.id) as { id: string }[]).map((r) => r.id);
        patchPools.engine = pool.slice(0, 1000);
        patchPools.bare = pool.slice(1000);
      }
      const measured: Partial<Record<Side, Measurement>> = {};
      const sides = c.baseline === 'unhooked'
        ? ([['engine', engine, `/api/v1/${ORG}`], ['bare', engine, `/api/v1/${ORG}`]] as const)
        : ([['engine', engine, `/api/v1/${ORG}`], ['bare', bare, '']] as const);
      for (const [side, server, prefix] of sides) {
        if (WARMUP > 0) {
          await load(server.url, c.request(side, prefix), WARMUP, server.proc.pid!);
          await new Promise((r) => setTimeout(r, 300)); // let requests cut off by the stop finish
        }
        const m = await load(server.url, c.request(side, prefix), DURATION, server.proc.pid!);
        measured[side] = m;
        log(`${c.key.padEnd(6)} ${side.padEnd(6)} ${Math.round(m.rps)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  non-2xx ${m.non2xx}  errors ${m.errors}  cpu ${m.cpuPerReq.toFixed(2)} ms/req  [${m.statuses}]`);
      }
      results.push({ c, engine: measured.engine!, bare: measured.bare! });
    }
    const mem = memoryOf(engine.proc.pid!);
    const bareMem = memoryOf(bare.proc.pid!);

    // 4. Report.
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const lines: string[] = [];
    lines.push(`# Benchmark results`, '');
    lines.push(`${new Date().toISOString()} · Node ${process.version} · ${os.cpus().length} CPUs (load average ${loadAtStart} at the start of the runs, ${os.loadavg()[0].toFixed(2)} at the end) · ${PATIENTS.toLocaleString('en-US')} patients · ${CONNECTIONS} connections · ${DURATION} s per case (after ${WARMUP} s warm-up) · SQLite (better-sqlite3, WAL)`, '');
    lines.push(`Seeding through bulkCreateRecords (chunks of 1,000, validation + audit): ${fmt(created)} rows in ${seedSeconds.toFixed(1)} s = **${fmt(seedRate)} rows/s** (generating the bodies took ${genSeconds.toFixed(1)} s more).`, '');
    lines.push('| case | engine req/s | engine p99 | bare req/s | bare p99 | engine/bare | target | met? |');
    lines.push('|---|---:|---:|---:|---:|---:|---|---|');
    let allMet = true;
    for (const { c, engine: e, bare: b } of results) {
      const ok = c.met(e, b) && e.non2xx === 0 && e.errors === 0;
      allMet &&= ok;
      lines.push(`| ${c.label} | ${fmt(e.rps)} | ${e.p99} ms | ${fmt(b.rps)} | ${b.p99} ms | ${(e.rps / b.rps).toFixed(2)}× | ${c.target} | ${ok ? 'yes' : 'NO'} |`);
    }
    const rssOk = mem.rss <= 200 * MiB;
    allMet &&= rssOk;
    lines.push(`| engine RSS after the runs | ${(mem.rss / MiB).toFixed(0)} MiB | | ${(bareMem.rss / MiB).toFixed(0)} MiB (bare) | | | ≤ 200 MiB | ${rssOk ? 'yes' : 'NO'} |`);
    lines.push('');
    lines.push('Details (latencies in ms; a case is only met with no non-2xx responses and no errors):', '');
    lines.push('| case | engine p50 | engine non-2xx / errors | engine requests | engine CPU ms/req | bare p50 | bare non-2xx / errors | bare requests | bare CPU ms/req |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const { c, engine: e, bare: b } of results) {
      lines.push(`| ${c.key} | ${e.p50} | ${e.non2xx} / ${e.errors} | ${fmt(e.total)} | ${e.cpuPerReq.toFixed(2)} | ${b.p50} | ${b.non2xx} / ${b.errors} | ${fmt(b.total)} | ${b.cpuPerReq.toFixed(2)} |`);
    }
    lines.push('', 'CPU ms/req is the server process\'s user + system CPU time over the run divided by its responses: it depends far less than req/s on what else the machine is running, and 1000 / CPU ms/req is roughly what one dedicated core could serve.');
    lines.push('');
    lines.push(`Engine RSS: ${(rssAtStart / MiB).toFixed(0)} MiB after start, ${(mem.rss / MiB).toFixed(0)} MiB after the runs, peak ${(mem.peak / MiB).toFixed(0)} MiB.`);
    lines.push(`Search prefixes: ${prefixes.join(', ')}.`);
    lines.push('The two note rows compare the engine with itself: "bare" there is the same write on a twin resource without the hook and the subscriber, so the ratio is what the pipeline\'s seams cost.');
    lines.push(`The bare server has no auth, validation, permissions or audit; its list and search run a naive count(*) each request; its search matches last_name only (the engine's matches every prefix-search field).`);
    lines.push('', allMet ? 'All targets met.' : 'Some targets were NOT met.');
    const report = `${lines.join('\n')}\n`;
    process.stdout.write(`\n${report}`);
    const outDir = path.join(ROOT, 'bench', 'results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'latest.md'), report);
    log(`written to ${path.relative(process.cwd(), path.join(outDir, 'latest.md'))}`);
  } finally {
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
