// The benchmark's cases: what each arm (a server, its route prefix and its data) is asked to do.
// A case's load() builds a fresh autocannon request for each warm-up and measurement, so state
// such as the PATCH pools' versions is read anew from the database every time.
import type { AutocannonRequest } from 'autocannon';
import type { PatientBody } from '../../seeds/generators.js';
import type { DbProbe } from './db-probe.js';
import type { LoadSpec, Measurement } from './measure.js';
import type { Server } from './processes.js';
import { pick } from './stats.js';

/**
 * engine: the engine on SQLite; bare: the lean baseline on a copy of the same file; pg: the engine on
 * PostgreSQL; unhooked: the engine writing a twin resource without hook and subscriber; reference:
 * the engine asked the native counterpart of a chart case's request (bench/lib/chart.ts); nolog:
 * the same engine build on the same file with REQUEST_LOG=off.
 */
export type ArmKey = 'engine' | 'bare' | 'pg' | 'unhooked' | 'reference' | 'nolog';

export interface ArmData {
  probe: DbProbe;
  /** Random live patients to GET. */
  ids: string[];
  /** Patients only this arm PATCHes (engine and bare share a database, not patients). */
  patchPool: string[];
  notes?: { hooked: string[]; plain: string[] };
}

export interface Arm {
  key: ArmKey;
  server: Server;
  /** Prefix of the patient routes: '/api/v1/<org>' on the engine, '' on the baseline. */
  prefix: string;
  /** Authorization header (the engine's). */
  auth: Record<string, string>;
  data: ArmData;
}

/** Medians of an arm's measurements over the rounds that count. */
export interface Summary extends Omit<Measurement, 'statuses' | 'disturbed' | 'kinds'> {
  kinds?: Measurement['kinds'];
}

export interface Target {
  text: string;
  /** `engine` is the case's first arm, `base` its baseline (or the SQLite engine for pg). */
  met(engine: Summary, base: Summary): boolean;
}

export interface BenchCase {
  key: string;
  label: string;
  /** The arms in their nominal order: the arm under test first, then its baseline(s). */
  arms: ArmKey[];
  target?: Target;
  /** For cases with a `reference` arm: the request that arm sends instead. */
  reference?: string;
  load(arm: Arm): Promise<LoadSpec>;
  /** Runs once every arm of a round has run (the mixed case checks its totals there). */
  afterRound?(arms: Arm[]): Promise<void>;
}

/** What every case of a phase shares. */
export interface Workload {
  /** Last-name prefixes for `?search=`. */
  prefixes: string[];
  /** Bodies POSTed (each with a chart number of its own). */
  postBodies: PatientBody[];
  /** Whether a PostgreSQL arm runs in this phase. */
  pg: boolean;
}

export const JSON_TYPE = { 'content-type': 'application/json' };
const TAGS: Record<ArmKey, string> = { engine: 'EP', bare: 'BP', pg: 'PP', unhooked: 'UP', reference: 'RP', nolog: 'NP' };
/** Chart numbers are unique across every POST of the run. */
let posted = 0;

/** A new patient body with a chart number of its own. */
export function nextPatient(w: Workload, arm: ArmKey): string {
  const n = ++posted;
  return JSON.stringify({ ...w.postBodies[n % w.postBodies.length], chart_number: `${TAGS[arm]}-${n}` });
}

/**
 * Records checked out one request at a time and returned with the version of the response, so
 * that no two connections ever update the same record from the same base version.
 */
export class VersionPool {
  private free: { id: string; version: number }[];
  private constructor(private readonly all: { id: string; version: number }[]) {
    this.free = [...all];
  }

  static async open(probe: DbProbe, table: string, ids: string[]): Promise<VersionPool> {
    const versions = await probe.versions(table, ids);
    return new VersionPool(ids.filter((id) => versions.has(id)).map((id) => ({ id, version: versions.get(id)! })));
  }

  checkout(): { id: string; version: number } {
    return this.free.shift() ?? pick(this.all);
  }

  /** Back into the pool, with the version the response reports (also a 409's current one). */
  release(entry: { id: string; version: number }, status: number, body: string): void {
    try {
      const parsed = JSON.parse(body);
      if (status < 300) entry.version = parsed.data.version;
      else if (status === 409) entry.version = parsed.details?.[0]?.current_version ?? entry.version;
    } catch {
      // keep the version we had
    }
    this.free.push(entry);
  }
}

/** A PATCH request over a pool (the record rides in autocannon's per-connection context). */
function versionedPatch(pool: VersionPool, headers: Record<string, string>, pathOf: (id: string) => string, bodyOf: (n: number) => Record<string, unknown>): AutocannonRequest {
  let n = 0;
  return {
    method: 'PATCH',
    headers,
    setupRequest: (req, context) => {
      const entry = pool.checkout();
      context.entry = entry;
      return { ...req, path: pathOf(entry.id), body: JSON.stringify({ base_version: entry.version, ...bodyOf(++n) }) };
    },
    onResponse: (status, body, context) => {
      if (context.entry) pool.release(context.entry, status, body);
      context.entry = undefined;
    },
  };
}

export const phoneOf = (n: number) => ({ mobile_phone: `(416) 555-${String(n % 10000).padStart(4, '0')}` });

export const patchPatient = async (arm: Arm) =>
  versionedPatch(await VersionPool.open(arm.data.probe, 'patients', arm.data.patchPool), { ...arm.auth, ...JSON_TYPE }, (id) => `${arm.prefix}/patients/${id}`, phoneOf);

const ratio = (min: number) => (e: Summary, b: Summary) => e.rps >= min * b.rps;

/** The cases run at the standard size, in their order within a round: reads, then writes. */
export function standardCases(w: Workload): BenchCase[] {
  const sqlArms: ArmKey[] = w.pg ? ['engine', 'bare', 'pg'] : ['engine', 'bare'];
  const notePath = (arm: Arm) => `${arm.prefix}/${arm.key === 'unhooked' ? 'bench-plain-notes' : 'bench-notes'}`;
  return [
    {
      key: 'get',
      label: 'GET patient by id',
      arms: sqlArms,
      target: { text: '≥ 0.6× bare', met: ratio(0.6) },
      load: async (arm) => ({
        request: {
          method: 'GET',
          headers: arm.auth,
          setupRequest: (req) => ({ ...req, path: `${arm.prefix}/patients/${pick(arm.data.ids)}` }),
        },
      }),
    },
    listCase(sqlArms),
    {
      key: 'search',
      label: 'search by last-name prefix + total',
      arms: sqlArms,
      load: async (arm) => ({
        request: {
          method: 'GET',
          headers: arm.auth,
          setupRequest: (req) => ({ ...req, path: `${arm.prefix}/patients?search=${encodeURIComponent(pick(w.prefixes))}&limit=50` }),
        },
      }),
    },
    {
      key: 'post',
      label: 'POST a patient',
      arms: sqlArms,
      target: { text: '≥ 0.6× bare', met: ratio(0.6) },
      load: async (arm) => ({
        request: {
          method: 'POST',
          headers: { ...arm.auth, ...JSON_TYPE },
          setupRequest: (req) => ({ ...req, path: `${arm.prefix}/patients`, body: nextPatient(w, arm.key) }),
        },
      }),
    },
    {
      key: 'patch',
      label: 'PATCH a patient with base_version',
      arms: sqlArms,
      target: { text: '≥ 0.5× bare', met: ratio(0.5) },
      load: async (arm) => ({ request: await patchPatient(arm) }),
    },
    {
      key: 'post-hooked',
      label: 'POST a note with a hook + subscriber (vs. its twin without)',
      arms: ['engine', 'unhooked'],
      target: { text: '≥ 0.9× without', met: ratio(0.9) },
      load: async (arm) => {
        let n = 0;
        return {
          request: {
            method: 'POST',
            headers: { ...arm.auth, ...JSON_TYPE },
            setupRequest: (req) => ({ ...req, path: notePath(arm), body: JSON.stringify({ title: ` Note ${++n} `, body: 'Written by the benchmark.' }) }),
          },
        };
      },
    },
    {
      key: 'patch-hooked',
      label: 'PATCH a note with a hook + subscriber (vs. its twin without)',
      arms: ['engine', 'unhooked'],
      target: { text: '≥ 0.9× without', met: ratio(0.9) },
      load: async (arm) => {
        const table = arm.key === 'unhooked' ? 'bench_plain_notes' : 'bench_notes';
        const ids = arm.key === 'unhooked' ? arm.data.notes!.plain : arm.data.notes!.hooked;
        const pool = await VersionPool.open(arm.data.probe, table, ids);
        return { request: versionedPatch(pool, { ...arm.auth, ...JSON_TYPE }, (id) => `${notePath(arm)}/${id}`, (n) => ({ title: ` Note edited ${n} ` })) };
      },
    },
  ];
}

/** Read-only list with its exact total: the engine's cached count against a naive count(*) per request. */
export function listCase(arms: ArmKey[]): BenchCase {
  return {
    key: 'list',
    label: 'list 50 status=active sort=last_name + total (read-only)',
    arms,
    target: { text: '≥ 20× bare', met: ratio(20) },
    load: async (arm) => ({ request: { method: 'GET', headers: arm.auth, path: `${arm.prefix}/patients?status=active&sort=last_name&limit=50` } }),
  };
}
