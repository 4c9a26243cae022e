#!/usr/bin/env node
// `npm run build` (also run by `npm start` first): compiles the server into dist/ with
// tsconfig.build.json, incrementally, then deletes compiled files whose source is gone. tsc never
// deletes outputs, and the server loads definitions/ and plugins/ from dist/ by listing the
// folder, so a removed definition would otherwise live on there.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const built = spawnSync(process.execPath, [tsc, '--build', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

/** The source extensions each compiled extension comes from. */
const SOURCES = { '.js': ['.ts', '.tsx', '.js', '.jsx'], '.mjs': ['.mts', '.mjs'], '.cjs': ['.cts', '.cjs'] };

function removeOrphans(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      removeOrphans(file);
      continue;
    }
    const compiled = entry.name.replace(/\.map$/, '');
    const ext = path.extname(compiled);
    if (!SOURCES[ext]) continue;
    const source = path.join(root, path.relative(dist, dir), compiled.slice(0, -ext.length));
    if (!SOURCES[ext].some((sourceExt) => existsSync(source + sourceExt))) rmSync(file);
  }
}

removeOrphans(dist);
