// Rounds: every case runs on each of its arms in turn, round after round, the order of the arms
// rotating each round (engine, bare · bare, engine · …) so that neither side always runs first
// or last; each run is a warm-up then a measurement. A round of a case is "disturbed" when
// another process used more CPU than the threshold during any of its measurements; medians are
// taken over the quiet rounds (over all rounds, and said so, when none is quiet).
import type { Arm, ArmKey, BenchCase, Summary } from './cases.js';
import { measure, type Accounting, type Measurement } from './measure.js';
import { log, sleep } from './processes.js';
import type { Settings } from './settings.js';
import { median } from './stats.js';

export interface CaseRound {
  round: number;
  order: ArmKey[];
  m: Partial<Record<ArmKey, Measurement>>;
  disturbed: boolean;
  /** Live patients in the database when the round's runs of this case began. */
  patients: number;
}

export interface CaseRun {
  c: BenchCase;
  phase: string;
  rounds: CaseRound[];
}

export async function runRounds(phase: string, cases: BenchCase[], arms: Partial<Record<ArmKey, Arm>>, s: Settings, accounting: Accounting): Promise<CaseRun[]> {
  const runs: CaseRun[] = cases.map((c) => ({ c, phase, rounds: [] }));
  for (let round = 1; round <= s.rounds; round++) {
    for (const run of runs) {
      const available = run.c.arms.map((k) => arms[k]).filter((a): a is Arm => !!a);
      const order = available.map((_, i) => available[(i + round - 1) % available.length]);
      const patients = await available[0].data.probe.patientCount();
      const m: CaseRound['m'] = {};
      for (const arm of order) {
        const options = { url: arm.server.url, serverPid: arm.server.pid, connections: s.connections, disturbedCpuPct: s.disturbedCpuPct, accounting };
        if (s.warmup > 0) {
          await measure(await run.c.load(arm), { ...options, seconds: s.warmup });
          await sleep(300); // let requests cut off by the stop finish
        }
        const r = await measure(await run.c.load(arm), { ...options, seconds: s.duration });
        m[arm.key] = r;
        log(`${phase} r${round} ${run.c.key.padEnd(12)} ${arm.key.padEnd(8)} ${String(Math.round(r.rps)).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  cpu ${r.cpuPerReq.toFixed(2)} ms/req${arm.key === 'pg' ? ` (+ db ${r.dbCpuPerReq.toFixed(2)})` : ''}  other ${r.otherCpuPct.toFixed(0)} %${r.disturbed ? ' DISTURBED' : ''}  [${r.statuses}]${r.errors ? `  errors ${r.errors}` : ''}`);
        await sleep(300);
      }
      run.rounds.push({ round, order: order.map((a) => a.key), m, disturbed: Object.values(m).some((x) => x!.disturbed), patients });
      await run.c.afterRound?.(order);
    }
  }
  return runs;
}

/** The rounds medians are taken over: the quiet ones, or all when none is quiet. */
export function countedRounds(run: CaseRun): { rounds: CaseRound[]; allDisturbed: boolean } {
  const quiet = run.rounds.filter((r) => !r.disturbed);
  return quiet.length ? { rounds: quiet, allDisturbed: false } : { rounds: run.rounds, allDisturbed: true };
}

/** Medians of one arm over the counted rounds (errors and non-2xx summed). */
export function summarize(run: CaseRun, arm: ArmKey): Summary | undefined {
  const ms = countedRounds(run).rounds.map((r) => r.m[arm]).filter((x): x is Measurement => !!x);
  if (!ms.length) return undefined;
  const med = (f: (m: Measurement) => number) => median(ms.map(f));
  const summary: Summary = {
    rps: med((m) => m.rps),
    p50: med((m) => m.p50),
    p99: med((m) => m.p99),
    total: ms.reduce((n, m) => n + m.total, 0),
    non2xx: ms.reduce((n, m) => n + m.non2xx, 0),
    errors: ms.reduce((n, m) => n + m.errors, 0),
    cpuPerReq: med((m) => m.cpuPerReq),
    dbCpuPerReq: med((m) => m.dbCpuPerReq),
    otherCpuPct: med((m) => m.otherCpuPct),
  };
  if (ms[0].kinds) {
    summary.kinds = Object.fromEntries(Object.keys(ms[0].kinds).map((k) => [k, {
      n: ms.reduce((n, m) => n + m.kinds![k].n, 0),
      p50: med((m) => m.kinds![k].p50),
      p99: med((m) => m.kinds![k].p99),
      non2xx: ms.reduce((n, m) => n + m.kinds![k].non2xx, 0),
    }]));
  }
  return summary;
}
