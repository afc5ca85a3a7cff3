/**
 * The test suite's Temporal: one real dev server per test run (the Temporal CLI installed by the
 * set-up), the workflow bundle built once, real workers — in this process or as child processes
 * that a test can SIGKILL — each on a unique task queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { AppConfig, InstanceConfig } from '../../src/config/instances';
import { startDevServer, type DevServer } from '../../src/worker/dev-server';
import { startWorkerRuntime, type WorkerRuntime, type WorkerRuntimeOptions } from '../../src/worker/runtime';
import { prebuiltWorkflowBundle } from '../../src/worker/workflow-bundle';
import { WORKFLOW_TYPE, type DuoIngestionInput } from '../../src/workflows/contract';
import { writeInstancesFile } from './instances';
import { SYSTEM_TMPDIR, stopAtEnd } from './root-hooks';
import { DUO_J1_ARGS } from './cli';

const REPO = path.resolve(__dirname, '..', '..');
let server: Promise<TestServer> | undefined;
let bundle: Promise<string> | undefined;
let runtimeInstalled = false;

/** Where the tests reach Temporal: the run's dev server. */
export type TestServer = Pick<DevServer, 'address' | 'namespace'>;

/**
 * Set by the global set-up when the suite runs in parallel processes: the one dev server they all
 * share, started by the main process (test/harness/global-fixtures.ts).
 */
export const SHARED_SERVER_ENV = 'DUO_J1_TEST_TEMPORAL';

/** Starts a dev server for the suite; the caller stops it. */
export function startTestDevServer(): Promise<DevServer> {
  // The suite keeps dozens of workers polling one namespace until it ends (each polls with
  // several long polls): above the server's default of 1200 concurrent polls per namespace, polls
  // are refused and tests stall on tasks nobody picks up.
  return startDevServer({ dynamicConfig: { 'frontend.namespaceCount': 20_000 } });
}

/**
 * The run's dev server: the one shared by the parallel processes, or else one started on first use
 * and stopped after the last test.
 */
export function testServer(): Promise<TestServer> {
  if (!server) {
    const shared = process.env[SHARED_SERVER_ENV];
    server = shared
      ? Promise.resolve(JSON.parse(shared) as TestServer)
      : startTestDevServer().then((started) => {
          stopAtEnd(() => started.stop());
          return started;
        });
  }
  return server;
}

export async function testClient(): Promise<Client> {
  const { address, namespace } = await testServer();
  const connection = await Connection.connect({ address });
  stopAtEnd(() => connection.close());
  return new Client({ connection, namespace });
}

/** The workflow bundle, built once per test run (cached by source hash across runs). */
export function testWorkflowBundle(): Promise<string> {
  bundle ??= prebuiltWorkflowBundle(path.join(SYSTEM_TMPDIR, 'duo-j1-test-bundles'));
  return bundle;
}

export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function temporaryDirectory(prefix = 'duo-j1-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A configuration with the given instances, a fresh data folder and a unique task queue. */
export function testConfig(instances: InstanceConfig[], overrides: Partial<AppConfig> = {}): AppConfig {
  return {
    instances,
    dataDir: temporaryDirectory('duo-j1-data-'),
    taskQueue: uniqueTaskQueue(),
    source: 'test',
    ...overrides,
  };
}

/** Quiet SDK logs: warnings and errors only, once per process. */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
}

/** Real workers in this process (shared queue and host queue), stopped at the end of the run. */
export async function startTestWorkers(
  config: AppConfig,
  options: Partial<WorkerRuntimeOptions> = {},
): Promise<WorkerRuntime> {
  installRuntime();
  const { address, namespace } = await testServer();
  const runtime = await startWorkerRuntime({
    config,
    temporal: { address, namespace },
    workflowBundlePath: await testWorkflowBundle(),
    // Fast Duo backoff so tests of 429s and 5xx take seconds, not minutes.
    duoClientOptions: {
      rateLimitBackoffMs: [50, 100, 200, 400],
      transientRetryBackoffMs: [50, 100],
      retryJitterMs: 20,
    },
    jupiterOneClientOptions: { retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 5 } },
    ...options,
  });
  stopAtEnd(() => runtime.stop());
  return runtime;
}

export interface WorkerProcess {
  process: ChildProcess;
  /** Lines the worker printed (JSON logs), for assertions about what was logged. */
  output: string[];
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A real worker as a child process (`duo-j1 worker`), so a test can SIGKILL it mid-activity.
 * The instances are passed as an instances file; secrets through the environment.
 */
export async function spawnWorkerProcess(options: {
  config: AppConfig;
  instancesFile: string;
  env: Record<string, string>;
  /** More `duo-j1 worker` flags, e.g. `--metrics 127.0.0.1:9464`. */
  extraArgs?: string[];
  /** Wait until it logs that it started (default); false returns at once, for workers meant to fail. */
  waitForStart?: boolean;
  /** Another Temporal server than the suite's (a test that restarts its own). */
  temporal?: { address: string; namespace: string };
}): Promise<WorkerProcess> {
  const { address, namespace } = options.temporal ?? (await testServer());
  const child = spawn(
    process.execPath,
    [
      ...DUO_J1_ARGS,
      'worker',
      '--instances',
      options.instancesFile,
      '--task-queue',
      options.config.taskQueue,
      '--workflow-bundle',
      await testWorkflowBundle(),
      '--log-format',
      'json',
      ...(options.extraArgs ?? []),
    ],
    {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TEMPORAL_ADDRESS: address,
        TEMPORAL_NAMESPACE: namespace,
        DUO_J1_DATA_DIR: options.config.dataDir,
        DUO_J1_DUO_BACKOFF_SCHEDULE_MS: '50,100,200,400',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on('line', (line) => line && output.push(line));
  }
  // 'close': after the last of its output was read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  stopAtEnd(() => kill('SIGKILL'));
  if (options.waitForStart === false) return { process: child, output, exited, kill };
  // Ready once it logs that it started.
  const deadline = Date.now() + 60_000;
  while (!output.some((line) => line.includes('Worker started'))) {
    if (child.exitCode !== null) throw new Error(`worker process exited early:\n${output.join('\n')}`);
    if (Date.now() > deadline) throw new Error(`worker process did not start:\n${output.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { process: child, output, exited, kill };
}

/**
 * A run of the first configured instance started on a worker child process, for tests that kill
 * that worker mid-run; `spawnAnother` starts a worker like it (same data folder: the same host).
 */
export async function startRunOnWorkerProcess(
  config: AppConfig,
  workflowId: string,
  tuning: DuoIngestionInput['tuning'] = {},
): Promise<{ worker: WorkerProcess; handle: WorkflowHandle; spawnAnother: () => Promise<WorkerProcess> }> {
  const { file, env } = writeInstancesFile(config.instances);
  const spawnAnother = () => spawnWorkerProcess({ config, instancesFile: file, env });
  const worker = await spawnAnother();
  const client = await testClient();
  const handle = await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: config.taskQueue,
    workflowId,
    args: [{ instanceId: config.instances[0].id, tuning }],
  });
  return { worker, handle, spawnAnother };
}
