#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist-test/**/*.test.js) and the repository's own
// tests (test/**/*.test.mjs) with node's test runner.
// Node 20's runner takes no globs, so the files are listed here. Arguments filter by path.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function* testFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* testFiles(path);
    else if (/\.test\.m?js$/.test(entry.name)) yield path;
  }
}

const files = [...testFiles(join(root, 'test'))].filter((file) => file.endsWith('.mjs'));
for (const pkg of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', pkg, 'dist-test');
  if (existsSync(dir)) files.push(...testFiles(dir));
}
const selected = files.filter((file) => filters.length === 0 || filters.some((f) => file.includes(f))).sort();
if (selected.length === 0) {
  console.error('No test files found: run `tsc -b` first, or check the filter.');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...selected], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
