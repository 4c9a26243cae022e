// Where an engine server's CPU went: the functions and files with the most self time in a CPU
// profile written by `node --cpu-prof` (BENCH_CPU_PROF=<dir> npm run bench).
//
//   npx tsx bench/profile-top.ts <file.cpuprofile> [how many, default 25]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/processes.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, howMany = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: npx tsx bench/profile-top.ts <file.cpuprofile> [how many]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url: string) => {
  if (!url) return '(native)';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  return p.startsWith(ROOT) ? path.relative(ROOT, p) : p;
};
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const fns = new Map<string, number>();
const files = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = shortUrl(url);
  add(fns, `${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`, us);
  add(files, where, us);
  // node_modules/<pkg> (or @scope/pkg), the project's own top folder, or Node's internals.
  const pkg = url.includes('node_modules/') ? where.split('/').slice(0, where.startsWith('@') ? 2 : 1).join('/') : url.startsWith('node:') ? 'node internals' : url ? `project ${where.split('/').slice(0, where.startsWith('bench/.build') ? 4 : 2).join('/')}` : where;
  add(packages, pkg, us);
}
const top = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${file}: ${(total / 1000).toFixed(0)} ms of samples`);
top('by package or folder (self time)', packages, 15);
top('by file (self time)', files, Number(howMany));
top('by function (self time)', fns, Number(howMany));
