import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { PROJECT_ROOT } from '../../app/runtime.js';

const run = promisify(execFile);
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Waits for the server's banner and returns its URL and demo key. */
function banner(child: ChildProcess): Promise<{ url: string; key: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const key = /Bearer (sk_live_\w+)/.exec(out)?.[1];
      if (url && key) resolve({ url, key });
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}`)));
  });
}

/**
 * `npm start` runs the build of tsconfig.build.json, not the sources: whatever the server loads by
 * path (definitions, seeds, package.json, swagger-ui assets) must be found from the compiled tree.
 * Built here into a scratch folder laid out like the repository (node_modules and package.json
 * beside it), so the test never touches dist/.
 */
describe('the compiled server (npm start)', function () {
  this.timeout(120_000);
  let dir: string;
  let child: ChildProcess | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(PROJECT_ROOT, '.build-test-'));
    await run(process.execPath, [TSC, '-p', path.join(PROJECT_ROOT, 'tsconfig.build.json'), '--outDir', dir, '--tsBuildInfoFile', path.join(dir, '.tsbuildinfo')]);
  });
  after(() => {
    child?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('emits app, definitions and seeds as JavaScript, and no tests or benchmarks', () => {
    for (const file of ['app/main.js', 'app/cli/main.js', 'definitions/patients.js', 'seeds/demo.js']) {
      expect(existsSync(path.join(dir, file)), file).to.equal(true);
    }
    for (const folder of ['test', 'bench']) expect(existsSync(path.join(dir, folder)), folder).to.equal(false);
  });

  it('starts from the build alone: schema, demo data and key, definitions, docs assets, version', async () => {
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    copyFileSync(path.join(PROJECT_ROOT, 'package.json'), path.join(dir, 'package.json'));
    // SQLite and no Redis whatever the suite runs on: the build is under test here, not the database.
    const env = { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, 'emr.sqlite')}`, REDIS_URL: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
    // Plain node, no loader: a .ts file reached at run time would fail here.
    child = spawn(process.execPath, [path.join(dir, 'app/main.js')], { env, cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    const { url, key } = await banner(child);

    expect((await fetch(`${url}/health`)).status).to.equal(200);
    const patients = await fetch(`${url}/api/v1/demo-clinic/patients?limit=2`, { headers: { authorization: `Bearer ${key}` } });
    expect(patients.status).to.equal(200);
    expect(((await patients.json()) as any).data).to.have.length(2);
    const css = await fetch(`${url}/api/docs/swagger-ui.css`);
    expect(css.status).to.equal(200);
    await css.arrayBuffer();
    const doc = (await (await fetch(`${url}/api/openapi.json`)).json()) as any;
    expect(doc.info.version).to.equal(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')).version);
    expect(doc.paths).to.have.property('/api/v1/{org}/tickets/{ticket_id}/comments');
  });
});
