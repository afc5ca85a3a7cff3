#!/usr/bin/env node
/*
 * `npm run build`: the package's dist/ folder from src/, which is what the `duo-j1` command, `npm
 * start` and an installed package run:
 *
 *   dist/**\/*.js, *.d.ts, *.js.map   the compiled sources (tsconfig.build.json), with type
 *                                     declarations and source maps that carry their sources
 *   dist/**\/<other files>            files the code reads beside itself (the HTML viewer's script
 *                                     and style), copied as they are
 *   dist/workflow-bundle.js           the workflows bundled for Temporal's sandbox once, here, so
 *                                     that workers start at once (Temporal's `production` sample)
 *   dist/workflow-bundle-traced.js    the same with OpenTelemetry's workflow interceptors, for
 *                                     workers with tracing on
 *   dist/.build-stamp                 the hash of everything the build is made of
 *
 * The build is written to a temporary folder and swapped in whole, so a process running from dist/
 * never sees half of it. `--if-stale` (used by `scripts/setup.js` and `npm pack`) builds only when
 * the stamp differs from the current sources. Plain JavaScript, like the set-up that calls it.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const STAMP = '.build-stamp';

/** Every file under a folder, relative to it, in a stable order. */
function listFiles(folder, prefix = '') {
  const files = [];
  for (const entry of fs.readdirSync(path.join(folder, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(folder, relative));
    else files.push(relative);
  }
  return files.sort();
}

/** Hash of the build's inputs: the sources, the compiler settings and the installed dependencies. */
function inputHash() {
  const hash = createHash('sha256');
  for (const file of listFiles(path.join(root, 'src'))) {
    hash.update(file).update(fs.readFileSync(path.join(root, 'src', file)));
  }
  for (const file of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.js']) {
    hash.update(file).update(fs.readFileSync(path.join(root, file)));
  }
  return hash.digest('hex');
}

function isStale() {
  try {
    return fs.readFileSync(path.join(dist, STAMP), 'utf8').trim() !== inputHash();
  } catch {
    return true;
  }
}

async function build() {
  const stamp = inputHash();
  const next = path.join(root, `.dist-next-${process.pid}`);
  fs.rmSync(next, { recursive: true, force: true });
  try {
    execFileSync(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', next],
      // The compiler reports errors on stdout; they go to stderr, which the quiet set-up still shows.
      { cwd: root, stdio: ['ignore', 2, 2] },
    );
    for (const file of listFiles(path.join(root, 'src'))) {
      if (file.endsWith('.ts')) continue;
      fs.mkdirSync(path.dirname(path.join(next, file)), { recursive: true });
      fs.copyFileSync(path.join(root, 'src', file), path.join(next, file));
    }
    // The compiled module knows where the shipped bundle goes and how it is keyed.
    await require(path.join(next, 'worker', 'workflow-bundle.js')).buildShippedWorkflowBundle();
    fs.writeFileSync(path.join(next, STAMP), stamp + '\n');

    const previous = path.join(root, `.dist-previous-${process.pid}`);
    if (fs.existsSync(dist)) fs.renameSync(dist, previous);
    fs.renameSync(next, dist);
    fs.rmSync(previous, { recursive: true, force: true });
  } finally {
    fs.rmSync(next, { recursive: true, force: true });
  }
}

module.exports = { isStale };

if (require.main === module) {
  const ifStale = process.argv.includes('--if-stale');
  if (ifStale && !isStale()) process.exit(0);
  build().catch((error) => {
    console.error(`[build] failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
