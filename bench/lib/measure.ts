// One load run against one server, with what it cost: autocannon's throughput and latency, the
// server's CPU per response (from /proc, far less load-dependent than req/s), the CPU of the
// database and Redis processes working for it, and how busy the rest of the machine was.
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { cpuBetween, cpuSnapshot, machineBusyMs, selfCpuMs } from './proc.js';

/** Latency of one kind of request of a mixed run. */
export interface KindStats {
  n: number;
  p50: number;
  p99: number;
  non2xx: number;
}

export interface LoadSpec {
  request: AutocannonRequest;
  /** Per-kind latencies the request recorded itself (mixed runs). */
  kinds?: () => Record<string, KindStats>;
}

export interface Measurement {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  statuses: string;
  /** CPU time the server process spent per response (ms). */
  cpuPerReq: number;
  /** CPU time PostgreSQL's and Redis's processes spent for the benchmark per response (ms). */
  dbCpuPerReq: number;
  /**
   * CPU used meanwhile by processes that are not the benchmark's (the machine's busy time minus
   * the benchmark process, its servers and their database processes), in % of one core.
   */
  otherCpuPct: number;
  disturbed: boolean;
  kinds?: Record<string, KindStats>;
}

/** The processes whose CPU is the benchmark's own. */
export interface Accounting {
  /** Every server the benchmark runs (idle ones too). */
  servers(): number[];
  /** Database and Redis processes working for the benchmark (found anew before and after each run). */
  helpers(): Promise<number[]>;
}

export interface LoadOptions {
  url: string;
  serverPid: number;
  seconds: number;
  connections: number;
  disturbedCpuPct: number;
  accounting: Accounting;
}

export async function measure(spec: LoadSpec, o: LoadOptions): Promise<Measurement> {
  const helpersBefore = await o.accounting.helpers();
  const servers = o.accounting.servers();
  const before = { procs: cpuSnapshot([...servers, ...helpersBefore]), machine: machineBusyMs(), self: selfCpuMs(), at: performance.now() };
  const result: AutocannonResult = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    pipelining: 1,
    timeout: 30,
    requests: [spec.request],
  });
  const wallMs = performance.now() - before.at;
  const machineMs = machineBusyMs() - before.machine;
  const selfMs = selfCpuMs() - before.self;
  const helpers = [...new Set([...helpersBefore, ...(await o.accounting.helpers())])];
  const after = cpuSnapshot([...servers, ...helpers]);
  const pick = (pids: number[]) => new Map([...after].filter(([pid]) => pids.includes(pid)));
  const serverMs = cpuBetween(before.procs, pick([o.serverPid]));
  const siblingsMs = cpuBetween(before.procs, pick(servers.filter((p) => p !== o.serverPid)));
  const helpersMs = cpuBetween(before.procs, pick(helpers));
  const otherCpuPct = Math.max(0, ((machineMs - selfMs - serverMs - siblingsMs - helpersMs) / wallMs) * 100);
  const responses = Math.max(1, result.requests.total);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    statuses: Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => `${code}:${s.count}`).join(' '),
    cpuPerReq: serverMs / responses,
    dbCpuPerReq: helpersMs / responses,
    otherCpuPct,
    disturbed: otherCpuPct > o.disturbedCpuPct,
    kinds: spec.kinds?.(),
  };
}
