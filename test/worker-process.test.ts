import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { freePort } from '../src/worker/dev-server';
import { WORKFLOW_TYPE, progressQuery, type DuoIngestionResult } from '../src/workflows/contract';
import { waitFor } from './harness/inspect';
import { simulatorInstance, writeInstancesFile } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import {
  spawnWorkerProcess,
  startRunOnWorkerProcess,
  startTestWorkers,
  testClient,
  testConfig,
  testServer,
  uniqueTaskQueue,
  type WorkerProcess,
} from './harness/temporal';

interface LogLine {
  level: string;
  message: string;
  setting?: string;
  hostTaskQueue?: string;
}

/** The worker's JSON log lines (anything else it printed is left out). */
function logLines(worker: WorkerProcess): LogLine[] {
  return worker.output.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine);
}

/** How long the process took to end, and its exit code. */
async function timeToExit(worker: WorkerProcess, since: number): Promise<{ code: number | null; seconds: number }> {
  const code = await worker.exited;
  return { code, seconds: (Date.now() - since) / 1000 };
}

/** A worker whose Temporal settings are wrong: it must end within 20 s, with one error line naming the setting. */
async function assertFailsFast(env: Record<string, string>, setting: RegExp): Promise<void> {
  const duo = await startDuoSimulator({ users: 5, seed: 52 });
  stopAtEnd(() => duo.close());
  const config = testConfig([simulatorInstance(duo)]);
  const instances = writeInstancesFile(config.instances);
  const startedAt = Date.now();
  const worker = await spawnWorkerProcess({
    config,
    instancesFile: instances.file,
    env: { ...instances.env, ...env },
    waitForStart: false,
  });
  const { code, seconds } = await timeToExit(worker, startedAt);
  assert.notEqual(code, 0, `exits non-zero:\n${worker.output.join('\n')}`);
  assert.ok(seconds < 20, `exits within 20 s (took ${seconds} s)`);
  const errors = logLines(worker).filter((line) => line.level === 'error');
  assert.equal(errors.length, 1, `one error line:\n${worker.output.join('\n')}`);
  assert.match(errors[0]?.setting ?? '', setting);
  assert.match(errors[0]?.message ?? '', setting);
}

/** A TCP relay to the test server that starts listening only when asked: Temporal "coming up" later. */
function lateTemporal(port: number, target: string): { open(): Promise<void> } {
  const [host, targetPort] = target.split(':');
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  stopAtEnd(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });
  return {
    open: () =>
      new Promise<void>((resolve, reject) => {
        server = createServer((socket) => {
          const upstream = connect(Number(targetPort), host);
          sockets.add(socket).add(upstream);
          socket.pipe(upstream).pipe(socket);
          socket.on('error', () => upstream.destroy());
          upstream.on('error', () => socket.destroy());
        });
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      }),
  };
}

async function probe(port: number, route: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${route}`);
  return { status: response.status, body: (await response.text()).trim() };
}

describe('duo-j1 worker', function () {
  it('serves Prometheus metrics, logs JSON lines and shuts down gracefully on SIGTERM', async () => {
    const duo = await startDuoSimulator({ users: 20, seed: 51 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const { file, env } = writeInstancesFile(config.instances);
    const port = await freePort();
    const worker = await spawnWorkerProcess({
      config,
      instancesFile: file,
      env,
      extraArgs: ['--metrics', `127.0.0.1:${port}`],
    });
    const client = await testClient();
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `worker-${uniqueTaskQueue()}`,
      args: [{ instanceId: config.instances[0].id }],
    })) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /temporal_activity_execution_latency/);
    assert.match(metrics, /activity_type="duoJ1\.fetchResource"/);

    const startLine = logLines(worker).find((line) => line.message === 'Worker started');
    assert.ok(
      startLine?.hostTaskQueue?.startsWith(`${config.taskQueue}-host-`),
      'structured start line with the host queue',
    );

    // Idle now: SIGTERM ends it at once, cleanly.
    const stoppedAt = Date.now();
    worker.process.kill('SIGTERM');
    const { code, seconds } = await timeToExit(worker, stoppedAt);
    assert.equal(code, 0, 'graceful shutdown exits 0');
    assert.ok(seconds < 5, `an idle worker stops at once (took ${seconds} s)`);
    assert.ok(worker.output.some((line) => line.includes('Worker stopped')));
    for (const line of worker.output) assert.ok(!line.includes(duo.secretKey), 'no secret in the logs');
  });

  it('exits non-zero within 20 s, naming the setting, on a namespace that does not exist', async () => {
    await assertFailsFast({ TEMPORAL_NAMESPACE: 'no-such-namespace' }, /TEMPORAL_NAMESPACE/);
  });

  it('exits non-zero within 20 s, naming the setting, when nothing answers at the address', async () => {
    await assertFailsFast({ TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` }, /TEMPORAL_ADDRESS/);
  });

  it('exits non-zero within 20 s, naming the setting, when TLS is asked of a server without it', async () => {
    await assertFailsFast({ TEMPORAL_TLS: 'true' }, /TEMPORAL_TLS/);
  });

  it('is not ready until it polls; ready once it does; ends on SIGTERM even while still connecting', async () => {
    const duo = await startDuoSimulator({ users: 5, seed: 53 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const { file, env } = writeInstancesFile(config.instances);
    const temporalPort = await freePort();
    const temporal = lateTemporal(temporalPort, (await testServer()).address);
    const [healthPort, otherHealthPort] = [await freePort(), await freePort()];
    const worker = await spawnWorkerProcess({
      config,
      instancesFile: file,
      env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}` },
      extraArgs: ['--metrics', `127.0.0.1:${healthPort}`],
      waitForStart: false,
    });
    // A second worker that never reaches Temporal, to be stopped while it is still connecting.
    const waiting = await spawnWorkerProcess({
      config: testConfig(config.instances, { taskQueue: config.taskQueue }),
      instancesFile: file,
      env: { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` },
      extraArgs: ['--metrics', `127.0.0.1:${otherHealthPort}`],
      waitForStart: false,
    });

    await waitFor(() => worker.output.some((line) => line.includes('Waiting for Temporal')), 'the worker to wait');
    assert.deepEqual(await probe(healthPort, '/readyz'), { status: 503, body: 'starting' });
    assert.equal((await probe(healthPort, '/healthz')).status, 200, 'alive while starting');

    await temporal.open();
    await waitFor(async () => (await probe(healthPort, '/readyz')).status === 200, 'the worker to be ready', 30_000);
    assert.deepEqual(await probe(healthPort, '/readyz'), { status: 200, body: 'polling' });
    assert.equal((await probe(healthPort, '/healthz')).status, 200);
    assert.equal((await probe(healthPort, '/nowhere')).status, 404);

    await waitFor(() => waiting.output.some((line) => line.includes('Waiting for Temporal')), 'the other to wait');
    assert.equal((await probe(otherHealthPort, '/readyz')).status, 503);
    const signalledAt = Date.now();
    waiting.process.kill('SIGTERM');
    const stopped = await timeToExit(waiting, signalledAt);
    assert.equal(stopped.code, 0);
    assert.ok(stopped.seconds < 3, `a worker still connecting stops at once (took ${stopped.seconds} s)`);

    await worker.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
  });

  it('on SIGTERM during a run, drains and exits; the run starts over on another worker and completes', async () => {
    // Slow enough that the fetches are still running when the signal comes, and past the grace time.
    const duo = await startDuoSimulator({ users: 1200, seed: 54, latencyMs: 1500 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const { worker: first, handle } = await startRunOnWorkerProcess(config, `drain-${config.taskQueue}`, {
      heartbeatTimeoutSeconds: 5,
      hostScheduleToStartSeconds: 4,
    });
    // A page of the fetch, not the one-user read with which the run validates its Duo credentials.
    await waitFor(
      () =>
        duo.requestLog.some(
          (request) => request.path === '/admin/v1/users' && request.status === 200 && (request.limit ?? 0) > 1,
        ),
      'the users fetch to be under way',
    );
    assert.equal((await handle.query(progressQuery)).phase, 'fetching');

    const signalledAt = Date.now();
    first.process.kill('SIGTERM');
    const { code, seconds } = await timeToExit(first, signalledAt);
    assert.equal(code, 0, `a drained worker exits 0:\n${first.output.slice(-5).join('\n')}`);
    assert.ok(seconds < 25, `it ends within the grace time and its margin (took ${seconds} s)`);
    assert.ok(logLines(first).some((line) => line.message.startsWith('Stopping')));

    // Another host picks the run up: the stopped worker's host queue has no poller any more.
    duo.setLatency(0);
    await startTestWorkers(testConfig(config.instances, { taskQueue: config.taskQueue }));
    const result = (await handle.result()) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');
    assert.equal(result.pipelineAttempts, 2);
    assert.equal(result.entities.duo_user, duo.tenant.users.length);
    for (const line of first.output) assert.ok(!line.includes(duo.secretKey), 'no secret in the logs');
  });
});
