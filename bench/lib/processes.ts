// Child processes (the servers under test) and everything the benchmark must undo on the way
// out: servers are stopped, temporary files and databases removed, on success, on error and on
// Ctrl-C alike.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

export interface Server {
  name: string;
  proc: ChildProcess;
  pid: number;
  url: string;
}

const servers = new Set<Server>();
const cleanups: { label: string; run: () => Promise<void> | void }[] = [];

/** Process ids of the servers running now. */
export function runningServers(): number[] {
  return [...servers].map((s) => s.pid);
}

/** Registers something to undo at exit (run last-registered first). */
export function atCleanup(label: string, run: () => Promise<void> | void): void {
  cleanups.push({ label, run });
}

let cleaning: Promise<void> | undefined;

/** Stops every server and runs every cleanup, once. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const s of [...servers]) await stopServer(s).catch(() => {});
    while (cleanups.length) {
      const c = cleanups.pop()!;
      try {
        await c.run();
      } catch (err) {
        log(`cleanup '${c.label}' failed: ${err instanceof Error ? err.message : err}`);
      }
    }
  })();
  return cleaning;
}

let signalled = false;

/** Whether Ctrl-C (or SIGTERM) arrived: whatever fails afterwards is its consequence. */
export const interrupted = () => signalled;

/** Ctrl-C and SIGTERM clean up before exiting; a second signal kills the servers outright. */
export function handleSignals(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      killAllNow();
      process.exit(130);
    }
    signalled = true;
    log(`${signal}: cleaning up (again to force)`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Whatever happens, no server outlives the benchmark.
  process.on('exit', killAllNow);
}

function killAllNow(): void {
  for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
}

/**
 * Both servers run compiled, as `npm start` runs the engine, so that neither pays for the tsx
 * loader: the engine with tsconfig.bench.json, the baseline with bench/tsconfig.bare.json.
 */
export function buildServers(): { engine: string; bare: string } {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '--build', path.join(ROOT, 'tsconfig.bench.json')], { stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '--build', path.join(ROOT, 'bench', 'tsconfig.bare.json')], { stdio: 'inherit' });
  return {
    engine: path.join(ROOT, 'bench', '.build', 'bench', 'engine-server.js'),
    bare: path.join(ROOT, 'bench', '.build', 'bare', 'bare-server.js'),
  };
}

// Variables of the developer's shell that must not reach a server: each gets its database explicitly.
const WITHHELD = ['DATABASE_URL', 'DATABASE_SCHEMA', 'REDIS_URL', 'BENCH_DB', 'NODE_OPTIONS'];

/** The Node flags `npm start` runs the engine with (its heap cap), so the benchmark runs it alike. */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts.start.split(/\s+/).filter((arg) => arg.startsWith('--'));
}

/** Starts a server script (with `nodeFlags`) and resolves once it prints `LISTENING <url>`. */
export function startServer(name: string, script: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<Server> {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !WITHHELD.includes(k)));
    const proc = spawn(process.execPath, [...nodeFlags, script], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const server: Server = { name, proc, pid: proc.pid!, url: '' };
    servers.add(server);
    proc.once('exit', () => servers.delete(server));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name} server did not start within 60 s`));
    }, 60_000);
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const m = /LISTENING (\S+)/.exec(buffered);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      proc.stdout!.resume(); // keep draining whatever else it prints
      server.url = m[1];
      resolve(server);
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

/** SIGTERM, then SIGKILL after 5 s. */
export async function stopServer(server: Server): Promise<void> {
  const { proc } = server;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    proc.kill('SIGKILL');
    await exited;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
