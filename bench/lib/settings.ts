// The benchmark's settings, read once from the environment (documented in bench/run.ts).
import os from 'node:os';

function num(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got '${raw}'`);
  return n;
}

const int = (name: string, fallback: number, min = 0) => Math.floor(num(name, fallback, min));

const list = (name: string) => (process.env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export interface Settings {
  /** Seconds measured per case, arm and round. */
  duration: number;
  /** Seconds of unrecorded warm-up before each measurement. */
  warmup: number;
  rounds: number;
  connections: number;
  /** Patients of the standard phase. */
  patients: number;
  /** Patients of the large phase (0 skips it). */
  largePatients: number;
  /** CPU of other processes, in % of one core, above which a measurement counts as disturbed. */
  disturbedCpuPct: number;
  /** PostgreSQL server for the PostgreSQL arm (a database of its own is created on it). */
  databaseUrl?: string;
  redisUrl?: string;
  /** Calls written to the request log before the usage summary is timed (0 skips the step). */
  requestLogRows: number;
  /** Only these cases (keys), when given. */
  cases: string[];
  tmpdir: string;
  /** Rows of the bulk import run as a job (0 skips it). */
  importRows: number;
  /** Patients given a full chart for the medical-summary case. */
  chartPatients: number;
  /** Where the engine servers write a CPU profile (node --cpu-prof) when they stop, if set. */
  cpuProfDir?: string;
}

export function readSettings(): Settings {
  const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('BENCH_DATABASE_URL must be a postgres:// URL');
  const redisUrl = process.env.BENCH_REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new Error('BENCH_REDIS_URL must be a redis:// URL');
  if (redisUrl && !databaseUrl) throw new Error('BENCH_REDIS_URL is used by the PostgreSQL arm only: set BENCH_DATABASE_URL too');
  return {
    duration: num('BENCH_DURATION', 15, 1),
    warmup: num('BENCH_WARMUP', 2),
    rounds: int('BENCH_ROUNDS', 3, 1),
    connections: int('BENCH_CONNECTIONS', 10, 1),
    patients: int('BENCH_PATIENTS', 100_000, 1000),
    largePatients: int('BENCH_LARGE_PATIENTS', 1_000_000),
    disturbedCpuPct: num('BENCH_DISTURBED_CPU', 15),
    databaseUrl,
    redisUrl,
    requestLogRows: int('BENCH_REQUEST_LOG_ROWS', 1_000_000),
    cases: list('BENCH_CASES'),
    tmpdir: process.env.BENCH_TMPDIR || os.tmpdir(),
    importRows: int('BENCH_IMPORT_ROWS', 100_000),
    chartPatients: int('BENCH_CHART_PATIENTS', 10, 1),
    cpuProfDir: process.env.BENCH_CPU_PROF || undefined,
  };
}

/** The BENCH_* variables that were set, as a command prefix (for the report). */
export function commandLine(): string {
  const vars = Object.keys(process.env).filter((k) => k.startsWith('BENCH_')).sort()
    .map((k) => `${k}=${/URL$/.test(k) ? redact(process.env[k]!) : process.env[k]}`);
  return [...vars, 'npm run bench'].join(' ');
}

/** A URL without its password. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
