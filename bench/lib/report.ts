// The report: bench/results/latest.md (and the raw numbers in latest.json), every row with the
// command that produced it and whether its target is met.
import { medianSync, type ImportResult } from './chart.js';
import type { ArmKey, Summary } from './cases.js';
import type { Measurement } from './measure.js';
import { MIX, type MixedCase } from './mixed.js';
import { SUMMARY_TARGET_MS, type LogReadResult } from './request-log.js';
import { countedRounds, summarize, type CaseRun } from './rounds.js';

export interface SeedingRow {
  label: string;
  patients: number;
  seconds: number;
  rowsPerSecond: number;
  generateSeconds: number;
  /** Rows/s this seeding is held to, if any. */
  target?: number;
}

export interface PhaseResult {
  name: string;
  patients: number;
  runs: CaseRun[];
  prefixes: string[];
}

export interface RssRow {
  label: string;
  start: number;
  end: number;
  peak: number;
}

export interface ReportInput {
  command: string;
  environment: string;
  seeding: SeedingRow[];
  phases: PhaseResult[];
  rss: RssRow[];
  /** Bulk imports through POST /patients/bulk, per database. */
  imports: ImportResult[];
  /** The usage summary timed over a filled request log, per database. */
  logReads: LogReadResult[];
  disturbedCpuPct: number;
  notes: string[];
}

const MiB = 1024 * 1024;
const RSS_LIMIT = 200 * MiB;
const PG_RATIO = 0.5;
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
// autocannon's latencies are whole milliseconds: its 0 means under one.
const ms = (n: number) => (!Number.isFinite(n) ? '–' : n === 0 ? '< 1' : n < 10 ? n.toFixed(1) : fmt(n));
const cpu = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const x = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)}×` : '–');
const clean = (...s: (Summary | undefined)[]) => s.every((v) => v && v.non2xx === 0 && v.errors === 0);
const ARM_NAMES: Record<ArmKey, string> = { engine: 'engine (SQLite)', bare: 'bare', pg: 'engine (PostgreSQL)', unhooked: 'engine, twin without hook', reference: 'engine (SQLite), native request', nolog: 'engine, request log off' };
const pct = (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : '–');

export function renderReport(r: ReportInput): { markdown: string; unmet: string[] } {
  const lines: string[] = [];
  const unmet: string[] = [];
  const verdict = (what: string, ok: boolean) => {
    if (!ok) unmet.push(what);
    return ok ? 'yes' : '**NO**';
  };
  lines.push('# Benchmark results', '');
  lines.push(`Command: \`${r.command}\``, '');
  lines.push(r.environment, '');

  lines.push('## Seeding through bulkCreateRecords', '');
  lines.push('| database | patients | seconds | rows/s | target | met? |', '|---|---:|---:|---:|---|---|');
  for (const s of r.seeding) {
    const target = s.target ? `≥ ${fmt(s.target)} rows/s` : '—';
    const met = s.target ? verdict(`seeding ${s.label}: ${fmt(s.rowsPerSecond)} rows/s`, s.rowsPerSecond >= s.target) : '—';
    lines.push(`| ${s.label} | ${fmt(s.patients)} | ${s.seconds.toFixed(1)} | ${fmt(s.rowsPerSecond)} | ${target} | ${met} |`);
  }
  lines.push('', 'Chunks of 1,000 rows, validation and audit included; generating the bodies is not counted.', '');

  for (const phase of r.phases) {
    lines.push(`## ${fmt(phase.patients)} patients: engine (SQLite) against its baseline`, '');
    lines.push('Medians over the quiet rounds; latencies in ms.', '');
    lines.push('| case | engine req/s | engine p50 / p99 | engine CPU ms/req | baseline | baseline req/s | baseline p50 / p99 | baseline CPU ms/req | engine/baseline | target | met? |');
    lines.push('|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|');
    for (const run of phase.runs.filter((r) => !r.c.arms.includes('reference'))) {
      if (run.c.key === 'request-log') continue; // a section of its own below
      const baseKey = run.c.arms.find((a) => a !== 'engine' && a !== 'pg')!;
      const e = summarize(run, 'engine');
      const b = summarize(run, baseKey);
      if (!e || !b) continue;
      const { allDisturbed } = countedRounds(run);
      let met = '—';
      if (run.c.target) met = verdict(`${run.c.label} at ${fmt(phase.patients)} patients`, run.c.target.met(e, b) && clean(e, b));
      if (allDisturbed) met += ' (every round disturbed)';
      lines.push(`| ${run.c.label} | ${fmt(e.rps)} | ${ms(e.p50)} / ${ms(e.p99)} | ${cpu(e.cpuPerReq)} | ${baseKey === 'bare' ? 'bare' : 'twin without hook'} | ${fmt(b.rps)} | ${ms(b.p50)} / ${ms(b.p99)} | ${cpu(b.cpuPerReq)} | ${x(e.rps / b.rps)} | ${run.c.target?.text ?? '—'} | ${met} |`);
    }
    lines.push('');

    const chartRuns = phase.runs.filter((run) => run.c.arms.includes('reference'));
    if (chartRuns.length) {
      lines.push(`### ${fmt(phase.patients)} patients: the patient chart, each request against its native counterpart on the same engine (SQLite)`, '');
      lines.push('Medians over the quiet rounds; latencies in ms. Custom field values live in their own table (app/custom-fields/); the native requests read a column of the patients table.', '');
      lines.push('| case | req/s | p50 / p99 | CPU ms/req | native counterpart | req/s | p50 / p99 | CPU ms/req | req/s ratio | p99 ratio | target | met? |');
      lines.push('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|---|');
      for (const run of chartRuns) {
        const e = summarize(run, 'engine');
        const b = summarize(run, 'reference');
        if (!e || !b) continue;
        let met = '—';
        if (run.c.target) met = verdict(`${run.c.label} at ${fmt(phase.patients)} patients`, run.c.target.met(e, b) && clean(e, b));
        if (countedRounds(run).allDisturbed) met += ' (every round disturbed)';
        lines.push(`| ${run.c.label} | ${fmt(e.rps)} | ${ms(e.p50)} / ${ms(e.p99)} | ${cpu(e.cpuPerReq)} | ${run.c.reference ?? '—'} | ${fmt(b.rps)} | ${ms(b.p50)} / ${ms(b.p99)} | ${cpu(b.cpuPerReq)} | ${x(e.rps / b.rps)} | ${x(e.p99 / Math.max(1, b.p99))} | ${run.c.target?.text ?? '—'} | ${met} |`);
      }
      lines.push('');
    }

    const mixed = phase.runs.find((run) => run.c.key === 'mixed');
    if (mixed) renderMixed(lines, phase, mixed, verdict);

    const logRun = phase.runs.find((run) => run.c.key === 'request-log');
    const on = logRun && summarize(logRun, 'engine');
    const off = logRun && summarize(logRun, 'nolog');
    if (logRun && on && off) {
      lines.push(`### ${fmt(phase.patients)} patients: what the request log costs`, '');
      lines.push('GET patient by id on the same build and database, the request log on (the default) and off (REQUEST_LOG=off). Overhead: req/s lost, CPU ms/req added.', '');
      lines.push('| log on req/s | p50 / p99 | CPU ms/req | log off req/s | p50 / p99 | CPU ms/req | req/s overhead | CPU overhead | target | met? |');
      lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
      const met = verdict(`request log overhead at ${fmt(phase.patients)} patients: ${pct(1 - on.rps / off.rps)}`, logRun.c.target!.met(on, off) && clean(on, off));
      lines.push(`| ${fmt(on.rps)} | ${ms(on.p50)} / ${ms(on.p99)} | ${cpu(on.cpuPerReq)} | ${fmt(off.rps)} | ${ms(off.p50)} / ${ms(off.p99)} | ${cpu(off.cpuPerReq)} | ${pct(1 - on.rps / off.rps)} | ${pct(on.cpuPerReq / off.cpuPerReq - 1)} | ${logRun.c.target!.text} | ${met}${countedRounds(logRun).allDisturbed ? ' (every round disturbed)' : ''} |`, '');
    }

    const pgRuns = phase.runs.filter((run) => run.c.arms.includes('pg') && summarize(run, 'pg'));
    if (pgRuns.length) {
      lines.push(`### ${fmt(phase.patients)} patients: engine on PostgreSQL against the engine on SQLite`, '');
      lines.push('PostgreSQL CPU is the engine server\'s plus that of the PostgreSQL (and Redis) processes serving it; on SQLite the database works inside the server process.', '');
      lines.push('| case | PostgreSQL req/s | p50 / p99 | CPU ms/req server + database | SQLite req/s | p50 / p99 | SQLite CPU ms/req | PostgreSQL/SQLite | target | met? |');
      lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---|---|');
      for (const run of pgRuns) {
        const p = summarize(run, 'pg')!;
        const e = summarize(run, 'engine')!;
        const met = verdict(`PostgreSQL ${run.c.label}: ${x(p.rps / e.rps)} SQLite`, p.rps >= PG_RATIO * e.rps && clean(p, e));
        lines.push(`| ${run.c.label} | ${fmt(p.rps)} | ${ms(p.p50)} / ${ms(p.p99)} | ${cpu(p.cpuPerReq)} + ${cpu(p.dbCpuPerReq)} | ${fmt(e.rps)} | ${ms(e.p50)} / ${ms(e.p99)} | ${cpu(e.cpuPerReq)} | ${x(p.rps / e.rps)} | ≥ ${PG_RATIO}× SQLite | ${met}${countedRounds(run).allDisturbed ? ' (every round disturbed)' : ''} |`);
      }
      lines.push('');
    }
  }

  if (r.imports.length) {
    lines.push('## Bulk import through POST /patients/bulk', '');
    lines.push('From sending the body to the answer (sync) or to the first poll of GET /jobs/{id} (every 200 ms) that finds the job completed: reading and staging the body, validation, audit, count keys and events included. The sync figure is the median run; CPU is the engine server\'s (+ PostgreSQL\'s and Redis\'s).', '');
    lines.push('| database | import | rows | created / failed | seconds | rows/s | CPU ms/row | target | met? |', '|---|---|---:|---:|---:|---:|---:|---|---|');
    for (const imp of r.imports) {
      const sync = medianSync(imp);
      const row = (run: NonNullable<typeof sync>, what: string, target?: number) => {
        const ok = run.created === run.rows && run.failed === 0;
        const met = target ? verdict(`bulk import job on ${imp.database}: ${fmt(run.rowsPerSecond)} rows/s`, ok && run.rowsPerSecond >= target) : '—';
        lines.push(`| ${imp.database} | ${what} | ${fmt(run.rows)} | ${fmt(run.created)} / ${fmt(run.failed)} | ${run.seconds.toFixed(run.seconds < 10 ? 2 : 1)} | ${fmt(run.rowsPerSecond)} | ${cpu(run.cpuMsPerRow)}${imp.database === 'PostgreSQL' ? ` + ${cpu(run.dbCpuMsPerRow)}` : ''} | ${target ? `≥ ${fmt(target)} rows/s` : '—'} | ${met} |`);
      };
      if (sync) row(sync, `sync, median of ${imp.sync.length}`);
      if (imp.job) row(imp.job, 'job (202, then polled)', imp.target);
    }
    lines.push('');
  }
  if (r.logReads.length) {
    lines.push('## Usage summary over a filled request log', '');
    lines.push('The calls written through the request log\'s batched writer (rows and day roll-ups in one transaction per batch), over 10 organizations, 4 keys each and 28 days; then the admin dashboard\'s `usageSummary` (7 days) timed 20 times for one organization and for all. The one organization\'s total over the whole period is checked against a count of its rows.', '');
    lines.push('| database | rows | write rows/s | one organization median / max ms | all organizations median / max ms | total exact? | target | met? |');
    lines.push('|---|---:|---:|---:|---:|---|---|---|');
    for (const l of r.logReads) {
      const exact = l.orgCalls === l.orgRows;
      const met = verdict(`usage summary at ${fmt(l.rows)} rows (${l.label}): ${l.orgMs.median.toFixed(1)} / ${l.allMs.median.toFixed(1)} ms`, exact && l.orgMs.median <= SUMMARY_TARGET_MS && l.allMs.median <= SUMMARY_TARGET_MS);
      lines.push(`| ${l.label} | ${fmt(l.rows)} | ${fmt(l.writeRowsPerSecond)} | ${l.orgMs.median.toFixed(1)} / ${l.orgMs.max.toFixed(1)} | ${l.allMs.median.toFixed(1)} / ${l.allMs.max.toFixed(1)} | ${exact ? 'yes' : `**NO** (${fmt(l.orgCalls)} counted, ${fmt(l.orgRows)} rows)`} | median ≤ ${SUMMARY_TARGET_MS} ms | ${met} |`);
    }
    lines.push('');
  }

  lines.push('## Engine memory', '');
  lines.push('| engine server | RSS after start | RSS after its runs | peak | target | met? |', '|---|---:|---:|---:|---|---|');
  for (const m of r.rss) {
    lines.push(`| ${m.label} | ${fmt(m.start / MiB)} MiB | ${fmt(m.end / MiB)} MiB | ${fmt(m.peak / MiB)} MiB | ≤ 200 MiB after the runs | ${verdict(`RSS of ${m.label}: ${fmt(m.end / MiB)} MiB`, m.end <= RSS_LIMIT)} |`);
  }
  lines.push('');

  lines.push('## Every run', '');
  lines.push(`"other CPU" is what processes outside the benchmark used during the measurement (the machine's busy time from /proc/stat minus the benchmark process, its servers and the database processes serving them), in % of one core; above ${r.disturbedCpuPct} % (BENCH_DISTURBED_CPU) the round of that case is disturbed and left out of the medians, unless every round is.`, '');
  lines.push('| patients | case | round | arm | req/s | p50 | p99 | CPU ms/req | database CPU ms/req | non-2xx / errors | other CPU | patients at start | round counted? |');
  lines.push('|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const phase of r.phases) {
    for (const run of phase.runs) {
      const counted = new Set(countedRounds(run).rounds);
      for (const round of run.rounds) {
        for (const arm of round.order) {
          const m = round.m[arm]!;
          lines.push(`| ${fmt(phase.patients)} | ${run.c.key} | ${round.round} | ${ARM_NAMES[arm]} | ${fmt(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${cpu(m.cpuPerReq)} | ${arm === 'pg' ? cpu(m.dbCpuPerReq) : '—'} | ${m.non2xx} / ${m.errors} | ${m.otherCpuPct.toFixed(0)} %${m.disturbed ? ' (disturbed)' : ''} | ${fmt(round.patients)} | ${counted.has(round) ? (round.disturbed ? 'yes (none was quiet)' : 'yes') : 'no: disturbed'} |`);
        }
      }
    }
  }
  lines.push('');
  const statuses = r.phases.flatMap((phase) => phase.runs.flatMap((run) => run.rounds.flatMap((round) => round.order.map((arm) => ({ phase, run, round, arm, m: round.m[arm]! })))))
    .filter(({ m }) => m.non2xx || m.errors);
  if (statuses.length) {
    lines.push('Runs with non-2xx responses or errors (status counts):', '');
    for (const { phase, run, round, arm, m } of statuses) lines.push(`- ${fmt(phase.patients)} ${run.c.key} round ${round.round} ${arm}: ${m.statuses}${m.errors ? `, ${m.errors} errors/timeouts` : ''}`);
    lines.push('');
  }

  lines.push('## Notes', '');
  for (const phase of r.phases) lines.push(`- Search prefixes at ${fmt(phase.patients)} patients (the most common last-name prefixes of 3, 4 and 5 letters): ${phase.prefixes.join(', ')}.`);
  for (const n of r.notes) lines.push(`- ${n}`);
  lines.push('');
  lines.push(unmet.length ? `**Targets NOT met (${unmet.length}):**\n\n${unmet.map((u) => `- ${u}`).join('\n')}` : '**All targets met.**');
  return { markdown: `${lines.join('\n')}\n`, unmet };
}

function renderMixed(lines: string[], phase: PhaseResult, run: CaseRun, verdict: (what: string, ok: boolean) => string): void {
  const c = run.c as MixedCase;
  const arms = run.c.arms.filter((a) => summarize(run, a));
  const sums = Object.fromEntries(arms.map((a) => [a, summarize(run, a)!])) as Record<ArmKey, Summary>;
  lines.push(`### ${fmt(phase.patients)} patients: the mixed workload per kind of request`, '');
  lines.push('Latency measured per request by the benchmark (ms), medians over the counted rounds; n is summed.', '');
  lines.push(`| kind | share | ${arms.map((a) => `${ARM_NAMES[a]} n | p50 | p99`).join(' | ')} |`);
  lines.push(`|---|---:|${arms.map(() => '---:|---:|---:').join('|')}|`);
  for (const [kind, share] of MIX) {
    lines.push(`| ${kind} | ${share} % | ${arms.map((a) => {
      const k = sums[a].kinds![kind];
      return `${fmt(k.n)}${k.non2xx ? ` (${k.non2xx} non-2xx)` : ''} | ${ms(k.p50)} | ${ms(k.p99)}`;
    }).join(' | ')} |`);
  }
  lines.push('');
  const { checked, wrong } = c.totals;
  const exact = checked > 0 && wrong.length === 0;
  lines.push(`Every total exact: **${exact ? 'yes' : 'no'}** (${fmt(checked)} checked${wrong.length ? `, ${wrong.length} wrong` : ''}): after every round, each list filter and search term of the mix was asked of each engine at rest and its \`total_count\` compared with a \`count(*)\` run directly on the database.`);
  for (const w of wrong.slice(0, 20)) lines.push(`- ${w.arm} \`?${w.query}\`: engine ${w.engine}, database ${w.database}`);
  if (!c.target) {
    // Without a p99 target (the standard size) exactness is still a target.
    lines.push('', `Totals exact at ${fmt(phase.patients)} patients: ${verdict(`mixed totals exact at ${fmt(phase.patients)} patients`, exact)}.`);
  }
  lines.push('');
}

/** The numbers behind the report, for comparing runs. */
export function rawResults(r: ReportInput): unknown {
  return {
    command: r.command,
    environment: r.environment,
    seeding: r.seeding,
    imports: r.imports,
    rss: r.rss,
    logReads: r.logReads,
    phases: r.phases.map((phase) => ({
      name: phase.name,
      patients: phase.patients,
      prefixes: phase.prefixes,
      cases: phase.runs.map((run) => ({
        key: run.c.key,
        label: run.c.label,
        target: run.c.target?.text,
        totals: (run.c as MixedCase).totals,
        medians: Object.fromEntries(run.c.arms.map((a) => [a, summarize(run, a)])),
        rounds: run.rounds.map((round) => ({ ...round, m: round.m as Record<string, Measurement> })),
      })),
    })),
  };
}
