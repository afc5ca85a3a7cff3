import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { temporaryDirectory } from './harness/temporal';

const exec = promisify(execFile);
const REPO = path.resolve(__dirname, '..');

/** `npm start` as a user runs it: no Duo or JupiterOne credentials in the environment. */
async function npmStart(dataDir: string): Promise<{ stdout: string; stderr: string }> {
  return exec('npm', ['start', '--silent'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DUO_J1_DATA_DIR: dataDir },
    maxBuffer: 16 * 1024 * 1024,
  });
}

describe('npm start on embedded defaults', function () {
  it('ingests the sample tenant into the local graph directory, and a second start reports zero changes', async () => {
    const dataDir = temporaryDirectory('duo-j1-npm-start-');
    const first = await npmStart(dataDir);
    assert.match(first.stderr, /SAMPLE tenant/);
    assert.match(first.stderr, /Web UI: http:\/\/127\.0\.0\.1:\d+/);
    const output = path.join(dataDir, 'output', 'sample');
    assert.match(first.stdout, new RegExp(`output folder: ${output}`));
    assert.match(first.stdout, /HTML picture: .*graph\.html/);
    assert.match(first.stdout, /change report: .*changes\.json/);
    assert.ok(existsSync(path.join(output, '.j1-integration', 'summary.json')));
    assert.ok(readFileSync(path.join(output, 'graph.html'), 'utf8').includes('cytoscape'));
    const changes = JSON.parse(readFileSync(path.join(output, 'changes.json'), 'utf8')) as {
      totals: { created: number };
    };
    assert.ok(changes.totals.created > 0);

    const second = await npmStart(dataDir);
    assert.match(second.stdout, /changes: 0 created, 0 updated, 0 deleted/);
    assert.ok(existsSync(path.join(dataDir, 'temporal', 'temporal.sqlite')), 'Temporal state kept in the data folder');
  });
});
