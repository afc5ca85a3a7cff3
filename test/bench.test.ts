/**
 * The benchmark: its arithmetic (lower bound, ratios, the JSON line) as pure functions, and one
 * tiny end-to-end run through the real `duo-j1 bench` command to prove the line is produced.
 */
import assert from 'node:assert/strict';
import { ConfigurationError } from '../src/config/errors';
import {
  benchFigures,
  boundRatio,
  clientRequestsPerMinute,
  cpuSecondsFromProcStat,
  duoFetchChains,
  endpointLowerBoundSeconds,
  fetchLowerBound,
  pagesFor,
  parseBenchOptions,
  peakRssMbFromProcStatus,
  rateLimitBurst,
  requestsBetween,
  summariseRequestLog,
  type BenchFigures,
  type BenchMeasurements,
} from '../src/bench/figures';
import type { JupiterOneDeliveryReport, LocalDeliveryReport } from '../src/workflows/contract';
import { runDuoJ1 } from './harness/cli';

/** Record counts of a generated 100,000-user tenant (seed 1), per list endpoint. */
const TENANT_100K: Record<string, number> = {
  '/admin/v1/admins': 100,
  '/admin/v1/groups': 2000,
  '/admin/v1/users': 100_000,
  '/admin/v1/phones': 100_000,
  '/admin/v1/tokens': 5000,
  '/admin/v1/webauthncredentials': 20_000,
  '/admin/v3/integrations': 50,
  '/admin/v1/bypass_codes': 3000,
  '/admin/v1/endpoints': 80_000,
  '/admin/v2/policies': 16,
  '/admin/v1/administrative_units': 10,
};

/** Every field of the JSON line, in order: the contract docs/benchmarks.md describes. */
const FIGURE_FIELDS = [
  'users',
  'target',
  'latencyMs',
  'rateLimit',
  'clientBudget',
  'seed',
  'entities',
  'relationships',
  'requests',
  'http429',
  'wallSeconds',
  'lowerBoundSeconds',
  'bottleneck',
  'boundRatio',
  'totalRatio',
  'usersPerSecond',
  'peakRssMb',
  'cpuSeconds',
  'cpuSecondsPerThousandUsers',
  'historyEvents',
  'historyBytes',
  'uploadBytes',
  'uploadUncompressedBytes',
  'batches',
];

const localDelivery: LocalDeliveryReport = {
  target: 'local',
  outputDir: '/data/output/bench',
  graphHtml: '/data/output/bench/graph.html',
  changesFile: '/data/output/bench/changes.json',
  changes: { created: 10, updated: 0, deleted: 0 },
  changeSummary: '',
};

/** Seconds computed two ways agree to well under a microsecond (floating point). */
function assertSeconds(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `expected ${expected} s, got ${actual} s`);
}

/** A JupiterOne delivery report of 1,991 entities and 1,985 relationships, all created. */
function jupiterOneDelivery(overrides: Partial<JupiterOneDeliveryReport> = {}): JupiterOneDeliveryReport {
  return {
    target: 'jupiterone',
    jobId: 'job-1',
    status: 'FINISHED',
    uploaded: { entities: 1991, relationships: 1985, batches: 3, bytes: 560_000, uncompressedBytes: 4_500_000 },
    rejected: 0,
    entities: { created: 1991, updated: 0, deleted: 0 },
    relationships: { created: 1985, updated: 0, deleted: 0 },
    mappedRelationships: { created: 0, updated: 0, deleted: 0 },
    ...overrides,
  };
}

function measurements(overrides: Partial<BenchMeasurements> = {}): BenchMeasurements {
  return {
    options: {
      users: 1000,
      target: 'local',
      latencyMs: 50,
      rateLimit: 200,
      clientBudget: 'match',
      seed: 1,
      counts: {},
      logAuthsPerUser: 0,
      compressUploads: true,
      previousRun: false,
    },
    result: {
      entities: { duo_user: 1000, duo_phone: 990, duo_account: 1 },
      relationships: { duo_account_has_user: 1000, duo_user_uses_phone: 985 },
      durationsMs: { validate: 120, fetch: 1100, build: 400, deliver: 300, total: 2000 },
      delivery: localDelivery,
    },
    duoRequests: { requests: { '/admin/v1/users': 5 }, http429: 1 },
    lowerBound: { seconds: 1, bottleneck: 'users', perResource: { users: 1 } },
    peakRssMb: 300.4,
    cpuSeconds: 1.234,
    history: { events: 90, bytes: 20_000 },
    ...overrides,
  };
}

describe('benchmark arithmetic', () => {
  it('reads the flags with their defaults, and names every bad flag', () => {
    assert.deepEqual(parseBenchOptions({}), {
      users: 10_000,
      target: 'local',
      latencyMs: 20,
      rateLimit: 0,
      clientBudget: 'match',
      seed: 1,
      counts: {},
      logAuthsPerUser: 0,
      compressUploads: true,
      previousRun: false,
    });
    assert.deepEqual(
      parseBenchOptions({
        users: '500',
        target: 'jupiterone',
        rateLimit: '200',
        phones: '7',
        groups: '0',
        logAuthsPerUser: '2',
        compressUploads: 'off',
        previousRun: 'on',
      }),
      {
        users: 500,
        target: 'jupiterone',
        latencyMs: 20,
        rateLimit: 200,
        clientBudget: 'match',
        seed: 1,
        counts: { phones: 7, groups: 0 },
        logAuthsPerUser: 2,
        compressUploads: false,
        previousRun: true,
      },
    );
    assert.equal(parseBenchOptions({ clientBudget: 'default' }).clientBudget, 'default');
    assert.equal(parseBenchOptions({ clientBudget: '150' }).clientBudget, 150);
    assert.throws(
      () =>
        parseBenchOptions({
          users: '0',
          target: 'disk',
          latencyMs: '-1',
          tokens: 'many',
          clientBudget: 'fast',
          logAuthsPerUser: 'x',
          compressUploads: 'no',
          previousRun: 'twice',
        }),
      (error: Error) =>
        error instanceof ConfigurationError &&
        [
          '--users',
          '--target',
          '--latency-ms',
          '--tokens',
          '--client-budget',
          '--log-auths-per-user',
          '--compress-uploads',
          '--previous-run',
        ].every((flag) => error.message.includes(flag)),
    );
  });

  it('gives the simulator one second of burst and the client the whole rate, or no limit at all', () => {
    assert.equal(rateLimitBurst(200), 4);
    assert.equal(rateLimitBurst(60), 1);
    assert.equal(rateLimitBurst(61), 2);
    assert.equal(rateLimitBurst(0), 1);
    assert.equal(clientRequestsPerMinute(200), 200);
    assert.ok(clientRequestsPerMinute(0)! >= 1_000_000);
    assert.equal(clientRequestsPerMinute(200, 'default'), undefined, 'no setting: the adaptive budget');
    assert.equal(clientRequestsPerMinute(200, 150), 150);
  });

  it('counts pages as Duo serves them: an empty list and an object endpoint still cost one request', () => {
    assert.equal(pagesFor(0, 300), 1);
    assert.equal(pagesFor(300, 300), 1);
    assert.equal(pagesFor(301, 300), 2);
    assert.equal(pagesFor(100_000, 300), 334);
    assert.equal(pagesFor(1, undefined), 1);
  });

  it('bounds one endpoint by its latency chain or by its token bucket, whichever is slower', () => {
    // 334 pages at 200/min with a burst of 4: 4 pass at once, the other 330 need 0.3 s each, and
    // the first answer itself comes after the 50 ms latency.
    assertSeconds(
      endpointLowerBoundSeconds(334, { latencyMs: 50, requestsPerMinute: 200, burst: 4 }),
      0.05 + 330 * 0.3,
    );
    // No rate limit: only the sequential latency counts.
    assertSeconds(endpointLowerBoundSeconds(334, { latencyMs: 20, requestsPerMinute: 0, burst: 1 }), 334 * 0.02);
    // Fewer pages than the burst: the latency chain is the bound.
    assertSeconds(endpointLowerBoundSeconds(3, { latencyMs: 100, requestsPerMinute: 200, burst: 4 }), 0.3);
    assertSeconds(endpointLowerBoundSeconds(10, { latencyMs: 0, requestsPerMinute: 0, burst: 1 }), 0);
  });

  it('takes the slowest resource of a tenant, adding up the endpoints one resource reads in turn', () => {
    const limits = { latencyMs: 50, requestsPerMinute: 200, burst: 4 };
    const chains = duoFetchChains(TENANT_100K);
    assert.deepEqual(
      chains.map((chain) => chain.resource),
      [
        'account',
        'admins',
        'groups',
        'users',
        'phones',
        'tokens',
        'webauthn',
        'integrations',
        'bypassCodes',
        'endpoints',
        'policies',
        'adminUnits',
      ],
    );
    const bound = fetchLowerBound(chains, limits);
    assert.equal(bound.bottleneck, 'users');
    assertSeconds(bound.seconds, 0.05 + 330 * 0.3);
    // 200 phone pages: 0.05 + 196 × 0.3 s.
    assertSeconds(bound.perResource.phones, 0.05 + 196 * 0.3);
    // The account reads the settings, the info summary, the administrators' methods, then the
    // authentication attempts: four answers in a row.
    assertSeconds(bound.perResource.account, 4 * 0.05);
    // 160 endpoint pages of 500: fewer than the users' 334 pages of 300.
    assertSeconds(bound.perResource.endpoints, 0.05 + 156 * 0.3);
    const unlimited = fetchLowerBound(chains, { latencyMs: 20, requestsPerMinute: 0, burst: 1 });
    assert.equal(unlimited.bottleneck, 'users');
    assertSeconds(unlimited.seconds, 334 * 0.02);
    assert.equal(fetchLowerBound(chains, { latencyMs: 0, requestsPerMinute: 0, burst: 1 }).bottleneck, 'none');
  });

  it('gives no ratio against a zero bound rather than an infinite one', () => {
    assert.equal(boundRatio(5, 0), null);
    assert.equal(boundRatio(110, 100), 1.1);
    assert.equal(boundRatio(1, 3), 0.333);
  });

  it('counts requests per endpoint path and the 429 answers among them', () => {
    const summary = summariseRequestLog([
      { path: '/admin/v1/users', status: 200 },
      { path: '/admin/v1/phones', status: 429 },
      { path: '/admin/v1/users', status: 429 },
      { path: '/admin/v1/users', status: 200 },
    ]);
    assert.deepEqual(summary, { requests: { '/admin/v1/phones': 1, '/admin/v1/users': 3 }, http429: 2 });
    assert.deepEqual(Object.keys(summary.requests), ['/admin/v1/phones', '/admin/v1/users']);
  });

  it('counts the requests between two reports of the simulator, paths asked for only before left out', () => {
    const before = { requests: { '/admin/v1/users': 3, '/admin/v1/settings': 2 }, http429: 1 };
    const after = { requests: { '/admin/v1/users': 7, '/admin/v1/settings': 2, '/admin/v1/phones': 4 }, http429: 3 };
    assert.deepEqual(requestsBetween(before, after), {
      requests: { '/admin/v1/users': 4, '/admin/v1/phones': 4 },
      http429: 2,
    });
  });

  it('reads CPU seconds of every thread from /proc stat text, whatever the command name holds', () => {
    // utime 1234 and stime 56 ticks (fields 14 and 15), at Linux's fixed 100 ticks a second.
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 56 0 0 20 0 11 0 9 9 9';
    assert.equal(cpuSecondsFromProcStat(stat), 12.9);
    assert.throws(() => cpuSecondsFromProcStat('4242 (node)'), /CPU times/);
  });

  it('reads the peak resident set size from /proc status text', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  524288 kB\nVmRSS:\t  400000 kB\n';
    assert.equal(peakRssMbFromProcStatus(status), 512);
    assert.throws(() => peakRssMbFromProcStatus('Name:\tnode\n'), /VmHWM/);
  });

  it('assembles the JSON line: totals, seconds, ratios against the bound, and no upload for the local target', () => {
    const figures = benchFigures(measurements());
    assert.deepEqual(Object.keys(figures), FIGURE_FIELDS);
    assert.equal(figures.entities, 1991);
    assert.equal(figures.relationships, 1985);
    assert.deepEqual(figures.wallSeconds, { total: 2, validate: 0.12, fetch: 1.1, build: 0.4, deliver: 0.3 });
    assert.equal(figures.boundRatio, 1.1);
    assert.equal(figures.totalRatio, 2);
    assert.equal(figures.usersPerSecond, 500);
    assert.equal(figures.cpuSeconds, 1.23);
    assert.equal(figures.cpuSecondsPerThousandUsers, 1.234);
    assert.equal(figures.http429, 1);
    assert.equal(figures.uploadBytes, 0);
    assert.equal(figures.uploadUncompressedBytes, 0);
    assert.equal(figures.batches, 0);
    assert.equal(JSON.stringify(figures).includes('\n'), false);
  });

  it('says when the measured run followed another, with its changes against the output that one left', () => {
    const base = measurements();
    const local = benchFigures({ ...base, options: { ...base.options, previousRun: true } });
    assert.deepEqual(Object.keys(local), [
      ...FIGURE_FIELDS.slice(0, 5),
      'previousRun',
      ...FIGURE_FIELDS.slice(5),
      'changes',
    ]);
    assert.equal(local.previousRun, true);
    assert.deepEqual(local.changes, { created: 10, updated: 0, deleted: 0 });
    const delivery = jupiterOneDelivery({
      entities: { created: 1, updated: 2, deleted: 3 },
      relationships: { created: 10, updated: 20, deleted: 30 },
      mappedRelationships: { created: 100, updated: 200, deleted: 300 },
    });
    const jupiterOne = benchFigures({
      ...base,
      options: { ...base.options, target: 'jupiterone', previousRun: true },
      result: { ...base.result, delivery },
    });
    assert.deepEqual(jupiterOne.changes, { created: 111, updated: 222, deleted: 333 });
    assert.equal('changes' in benchFigures(base), false, 'a first run has no previous output to compare with');
  });

  it('takes the upload figures from the JupiterOne delivery report', () => {
    const delivery = jupiterOneDelivery({
      uploaded: { entities: 1991, relationships: 1985, batches: 3, bytes: 560_000, uncompressedBytes: 4_500_000 },
    });
    const base = measurements();
    const figures = benchFigures({
      ...base,
      options: { ...base.options, target: 'jupiterone' },
      result: { ...base.result, delivery },
    });
    assert.equal(figures.target, 'jupiterone');
    assert.equal(figures.uploadBytes, 560_000, 'the bytes as sent on the wire');
    assert.equal(figures.uploadUncompressedBytes, 4_500_000);
    assert.equal(figures.batches, 3);
  });
});

/** Runs `duo-j1 bench` with `args` and answers the one JSON line it prints. */
async function benchLine(args: string[]): Promise<BenchFigures> {
  const { code, stdout, stderr } = await runDuoJ1(['bench', ...args]);
  assert.equal(code, 0, `bench failed:\n${stderr}`);
  const lines = stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `expected one line on stdout, got:\n${stdout}`);
  return JSON.parse(lines[0]) as BenchFigures;
}

describe('duo-j1 bench', () => {
  it('runs the whole pipeline on a tiny tenant and prints one JSON line of figures', async () => {
    const figures = await benchLine(['--users', '200', '--latency-ms', '0']);
    assert.deepEqual(Object.keys(figures), FIGURE_FIELDS);
    assert.equal(figures.users, 200);
    assert.equal(figures.target, 'local');
    assert.ok(figures.entities > 200, `entities: ${figures.entities}`);
    assert.ok(figures.relationships > 200, `relationships: ${figures.relationships}`);
    // 200 users fit in one page. The validation asks for the settings, which the fetch reads once,
    // and leaves the users' budget whole for their fetch.
    assert.equal(figures.requests['/admin/v1/users'], 1);
    assert.equal(figures.requests['/admin/v1/settings'], 2);
    assert.equal(figures.http429, 0);
    assert.equal(figures.lowerBoundSeconds, 0);
    assert.equal(figures.boundRatio, null);
    assert.ok(figures.wallSeconds.total > 0 && figures.wallSeconds.total >= figures.wallSeconds.fetch);
    assert.ok(figures.peakRssMb > 0);
    // The run converts and writes a graph: that takes some CPU; 200 users are a fifth of a thousand.
    assert.ok(figures.cpuSeconds > 0, `cpuSeconds: ${figures.cpuSeconds}`);
    assert.ok(Math.abs(figures.cpuSecondsPerThousandUsers - figures.cpuSeconds * 5) < 0.03);
    assert.ok(figures.historyEvents > 0 && figures.historyEvents <= 200, `history events: ${figures.historyEvents}`);
    assert.ok(figures.historyBytes > 0 && figures.historyBytes <= 256 * 1024, `history bytes: ${figures.historyBytes}`);
    assert.equal(figures.uploadBytes, 0);
  });

  it('measures a run after a previous one: its own requests, compared with the output the first left', async () => {
    const figures = await benchLine(['--users', '200', '--latency-ms', '0', '--previous-run', 'on']);
    assert.equal(figures.previousRun, true);
    // The same tenant twice: the measured run found every object as the first run wrote it.
    assert.deepEqual(figures.changes, { created: 0, updated: 0, deleted: 0 });
    assert.ok(figures.entities > 200, `entities: ${figures.entities}`);
    // The measured run's requests only, not the first run's as well.
    assert.equal(figures.requests['/admin/v1/users'], 1);
    assert.equal(figures.requests['/admin/v1/settings'], 2);
    assert.ok(figures.peakRssMb > 0);
    assert.ok(figures.cpuSeconds > 0, `cpuSeconds: ${figures.cpuSeconds}`);
  });
});
