/**
 * Faults from the command line: `duo-j1 simulate duo|jupiterone --faults '<json>'` accepts every
 * fault of the simulators' fault shapes (checked, with "did you mean" for unknown fields), and the
 * loopback-only control route `/__sim/faults` reads and replaces them while the simulator runs.
 * All over real HTTP, against `duo-j1` child processes and in-process simulators.
 */
import assert from 'node:assert/strict';
import { type ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { request } from 'undici';
import {
  canonicalizeParams,
  computeDuoSignature,
  duoAuthorizationHeader,
  formatDuoDate,
  type DuoParams,
} from '../src/duo';
import { FAULTS_CONTROL_PATH } from '../src/simulators/control-route';
import { type DuoSimulatorFaults, startDuoSimulator } from '../src/simulators/duo';
import { DUO_FAULT_RULES, parseDuoSimulatorFaults } from '../src/simulators/duo/faults';
import { JUPITERONE_FAULT_RULES, parseJupiterOneFaultSettings } from '../src/simulators/jupiterone/faults';
import { startJupiterOneSimulator } from '../src/simulators/jupiterone';
import { stopAtEnd } from './harness/root-hooks';
import { DUO_J1_ARGS } from './harness/cli';

const exec = promisify(execFile);

/** Every Duo fault at once: the shape's every field. */
const EVERY_DUO_FAULT: DuoSimulatorFaults = {
  serverErrorRate: 0.1,
  tooManyRequestsRate: 0.1,
  connectionResetRate: 0.05,
  malformedBodyRate: 0.05,
  faultPaths: ['/admin/v1/users'],
  shortPages: true,
  endpointErrors: {
    '/admin/v1/admins': { status: 403, code: 40301, message: 'Access forbidden', times: 2, location: 'x' },
  },
  pagingAnomalies: { '/admin/v1/phones': { kind: 'empty-page', fromOffset: 100 } },
};

/** Every JupiterOne fault at once. */
const EVERY_JUPITERONE_FAULT = {
  serverErrorRate: 0.1,
  rateLimitRate: 0.1,
  connectionResetRate: 0.05,
  latencyMs: 5,
  retryAfterSeconds: 1,
  payloadLimitBytes: 100_000,
  eventsErrorStatus: 503,
  routes: ['upload', 'finalize'],
  seed: 7,
  scheduled: [{ kind: 'reset-after-processing', count: 2, route: 'start-job' }],
};

interface Running {
  announced: Record<string, string>;
  stop(): Promise<number | null>;
}

/** Starts `duo-j1 simulate …` and waits for its JSON line. */
async function simulate(args: string[]): Promise<Running> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [...DUO_J1_ARGS, 'simulate', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  stopAtEnd(() => void child.kill('SIGKILL'));
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('\n')) resolve(buffer.split('\n')[0]);
    });
    void exited.then((code) => reject(new Error(`duo-j1 simulate exited with ${code} before listening: ${stderr}`)));
  });
  return {
    announced: JSON.parse(line) as Record<string, string>,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function control(url: string, method: 'GET' | 'PUT' | 'POST' = 'GET', body?: unknown) {
  const response = await request(`${url}${FAULTS_CONTROL_PATH}`, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

/** A correctly signed Duo GET against a simulator announced by `duo-j1 simulate duo`. */
async function duoGet(announced: Record<string, string>, apiPath: string, params: DuoParams = []) {
  const date = formatDuoDate(new Date());
  const query = canonicalizeParams(params);
  const signature = computeDuoSignature('v5', announced.secretKey, {
    method: 'GET',
    host: announced.apiHostname,
    path: apiPath,
    params,
    date,
  });
  const response = await request(`${announced.url}${apiPath}${query ? `?${query}` : ''}`, {
    headers: { date, authorization: duoAuthorizationHeader(announced.integrationKey, signature) },
  });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
}

describe('simulator faults from the command line', () => {
  it('simulate duo --faults serves the faults given, and the control route changes them while it runs', async () => {
    const duo = await simulate([
      'duo',
      '--users',
      '40',
      '--faults',
      JSON.stringify({
        pagingAnomalies: { '/admin/v1/users': { kind: 'stuck-offset', fromOffset: 10 } },
        endpointErrors: { '/admin/v1/admins': { status: 403, code: 40301 } },
      }),
    ]);
    const page = (offset: number) =>
      duoGet(duo.announced, '/admin/v1/users', [
        ['limit', '10'],
        ['offset', String(offset)],
      ]);
    assert.deepEqual((await page(0)).body.metadata, { next_offset: 10, total_objects: 40 });
    const stuck = await page(10);
    assert.equal((stuck.body.metadata as { next_offset?: number }).next_offset, 10, 'next_offset does not advance');
    const admins = await duoGet(duo.announced, '/admin/v1/admins');
    assert.equal(admins.status, 403);
    assert.equal(admins.body.code, 40301);

    const before = await control(duo.announced.url);
    assert.equal(before.status, 200);
    assert.deepEqual(before.body.pagingAnomalies, { '/admin/v1/users': { kind: 'stuck-offset', fromOffset: 10 } });

    const replaced = await control(duo.announced.url, 'PUT', { serverErrorRate: 1, faultPaths: ['/admin/v1/groups'] });
    assert.equal(replaced.status, 200);
    assert.deepEqual(replaced.body, { serverErrorRate: 1, faultPaths: ['/admin/v1/groups'] });
    assert.deepEqual((await page(10)).body.metadata, { next_offset: 20, prev_offset: 0, total_objects: 40 });
    assert.equal((await duoGet(duo.announced, '/admin/v1/admins')).status, 200);
    assert.equal((await duoGet(duo.announced, '/admin/v1/groups')).status, 500);

    const refused = await control(duo.announced.url, 'PUT', { serverErrorRat: 1 });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.error, {
      code: 'INVALID_FAULTS',
      message: 'Invalid fault settings: serverErrorRat is not a known fault; did you mean "serverErrorRate"?',
      problems: ['serverErrorRat is not a known fault; did you mean "serverErrorRate"?'],
    });
    assert.deepEqual((await control(duo.announced.url)).body, replaced.body, 'refused settings change nothing');
    assert.equal((await control(duo.announced.url, 'POST', {})).status, 405);
    assert.equal(await duo.stop(), 0);
  });

  it('simulate jupiterone --faults queues scheduled faults and takes rates, and the control route replaces them', async () => {
    const j1 = await simulate([
      'jupiterone',
      '--faults',
      JSON.stringify({ scheduled: [{ kind: 'reset-after-processing', route: 'start-job' }] }),
    ]);
    const headers = { authorization: `Bearer ${j1.announced.apiKey}`, 'jupiterone-account': j1.announced.account };
    const call = async (method: 'GET' | 'POST', apiPath: string, body?: unknown) => {
      const response = await request(`${j1.announced.url}${apiPath}`, {
        method,
        headers: { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown> };
    };
    // The start-job answer is lost, but the job was started: what a lost answer looks like.
    await assert.rejects(() => call('POST', '/persister/synchronization/jobs', { source: 'api', scope: 'lost' }));
    const jobs = (await call('GET', '/__sim/jobs')).body.jobs as { job: { id: string; status: string } }[];
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].job.status, 'AWAITING_UPLOADS');
    assert.deepEqual((await control(j1.announced.url)).body.scheduled, []);

    const replaced = await control(j1.announced.url, 'PUT', { serverErrorRate: 1, routes: ['get-job'] });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.serverErrorRate, 1);
    assert.equal(replaced.body.rateLimitRate, 0, 'what PUT does not give takes its default');
    assert.equal((await call('GET', `/persister/synchronization/jobs/${jobs[0].job.id}`)).status, 500);
    assert.equal((await control(j1.announced.url, 'PUT', {})).status, 200);
    assert.equal((await call('GET', `/persister/synchronization/jobs/${jobs[0].job.id}`)).status, 200);

    const refused = await control(j1.announced.url, 'PUT', '{"scheduled":[{"kind":"lost-answer"}]');
    assert.equal(refused.status, 400);
    assert.match(String((refused.body.error as { message: string }).message), /not valid JSON/);
    assert.equal(await j1.stop(), 0);
  });

  it('accepts every fault of both shapes, and reads each back unchanged', async () => {
    assert.deepEqual(Object.keys(EVERY_DUO_FAULT).sort(), Object.keys(DUO_FAULT_RULES).sort(), 'every Duo fault');
    assert.deepEqual(
      Object.keys(EVERY_JUPITERONE_FAULT).sort(),
      Object.keys(JUPITERONE_FAULT_RULES).sort(),
      'every JupiterOne fault',
    );
    assert.deepEqual(parseDuoSimulatorFaults(JSON.stringify(EVERY_DUO_FAULT)), EVERY_DUO_FAULT);
    assert.deepEqual(parseJupiterOneFaultSettings(JSON.stringify(EVERY_JUPITERONE_FAULT)), EVERY_JUPITERONE_FAULT);
    assert.throws(
      () => parseJupiterOneFaultSettings({ eventsErrorStatus: 200 }),
      /eventsErrorStatus must be a whole number of at least 400, not 200/,
    );
    assert.throws(
      () => parseJupiterOneFaultSettings({ eventsErrorStatus: 600 }),
      /eventsErrorStatus must be an HTTP status from 400 to 599, not 600/,
    );
    const duo = await startDuoSimulator({ users: 3 });
    stopAtEnd(() => duo.close());
    assert.equal((await control(duo.url, 'PUT', EVERY_DUO_FAULT)).status, 200);
    assert.deepEqual((await control(duo.url)).body, EVERY_DUO_FAULT);
    assert.equal(duo.requestLog.length, 0, 'the control route is not part of the request log');
    const j1 = await startJupiterOneSimulator();
    stopAtEnd(() => j1.close());
    assert.equal((await control(j1.url, 'PUT', EVERY_JUPITERONE_FAULT)).status, 200);
    assert.deepEqual((await control(j1.url)).body, EVERY_JUPITERONE_FAULT);
    assert.deepEqual(j1.requestLog(), []);
  });

  it('documents every fault in docs/simulators.md', () => {
    const docs = readFileSync(path.resolve(__dirname, '..', 'docs', 'simulators.md'), 'utf8');
    for (const field of [...Object.keys(DUO_FAULT_RULES), ...Object.keys(JUPITERONE_FAULT_RULES)]) {
      assert.ok(docs.includes(`| \`${field}\``), `docs/simulators.md has a row for ${field}`);
    }
  });

  it('refuses unknown or ill-typed faults on the command line, naming each with a suggestion (exit 2)', async () => {
    const outcome = await exec(process.execPath, [
      ...DUO_J1_ARGS,
      'simulate',
      'duo',
      '--faults',
      JSON.stringify({
        serverErrorRat: 0.5,
        connectionResetRate: 2,
        endpointErrors: { '/admin/v1/admins': { status: 403, cod: 40301 } },
        pagingAnomalies: { '/admin/v1/users': { kind: 'stuck' } },
      }),
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(outcome.code, 2);
    assert.match(outcome.stderr, /5 problems with the fault settings/);
    assert.match(outcome.stderr, /serverErrorRat is not a known fault; did you mean "serverErrorRate"\?/);
    assert.match(outcome.stderr, /connectionResetRate must be a number from 0 to 1, not 2/);
    assert.match(
      outcome.stderr,
      /endpointErrors\.\/admin\/v1\/admins\.cod is not a known fault; did you mean "code"\?/,
    );
    assert.match(outcome.stderr, /endpointErrors\.\/admin\/v1\/admins\.code is required/);
    assert.match(
      outcome.stderr,
      /pagingAnomalies\.\/admin\/v1\/users\.kind must be one of missing-metadata, stuck-offset, empty-page/,
    );
  });

  it('answers the control route only to this machine', async function () {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((candidate) => candidate && candidate.family === 'IPv4' && !candidate.internal)?.address;
    if (!address) this.skip(); // A host with loopback only cannot reach the simulator from elsewhere.
    const duo = await startDuoSimulator({ users: 3, host: '0.0.0.0' });
    stopAtEnd(() => duo.close());
    const port = new URL(duo.url).port;
    const remote = await request(`http://${address}:${port}${FAULTS_CONTROL_PATH}`, {
      method: 'PUT',
      body: JSON.stringify({ serverErrorRate: 1 }),
    });
    assert.equal(remote.statusCode, 403);
    assert.deepEqual(((await remote.body.json()) as { error: { code: string } }).error.code, 'LOOPBACK_ONLY');
    assert.deepEqual((await control(`http://127.0.0.1:${port}`)).body, {}, 'nothing changed');
  });
});
