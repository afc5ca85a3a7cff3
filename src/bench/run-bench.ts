/**
 * The benchmark's orchestration: every part of the pipeline in a process of its own, on loopback —
 *
 *   an embedded Temporal dev server (in memory) · the Duo simulator · the JupiterOne simulator (for
 *   the jupiterone target) · one `duo-j1 worker` process, whose peak memory is measured
 *
 * — then one ingestion run, timed by the workflow itself, and the figures gathered from the
 * run's result, its history, the worker's /proc status and the Duo simulator's request log. Every
 * process started here is stopped again on success, failure, a deadline or Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CONVERSION_THREAD_SETTING } from '../graph/conversion-thread-setting';
import { ownProgramArgs } from '../util/own-modules';
import { startDevServer, type DevServer } from '../worker/dev-server';
import { prebuiltWorkflowBundle } from '../worker/workflow-bundle';
import { WORKFLOW_TYPE, type DuoIngestionInput, type DuoIngestionResult } from '../workflows/contract';
import {
  LOG_TAIL_WORKFLOW_TYPE,
  logTailStateQuery,
  logTailWorkflowId,
  type DuoLogTailInput,
} from '../workflows/log-tail-contract';
import { aggregateFilePath, readAggregateFile } from '../logs/aggregate-file';
import {
  benchFigures,
  clientRequestsPerMinute,
  cpuSecondsFromProcStat,
  duoFetchChains,
  fetchLowerBound,
  peakRssMbFromProcStatus,
  rateLimitBurst,
  requestsBetween,
  type BenchFigures,
  type BenchOptions,
  type LogTailFigures,
} from './figures';
import type {
  DuoSimulatorProcessAnnouncement,
  DuoSimulatorProcessOptions,
  DuoSimulatorProcessReport,
  JupiterOneSimulatorProcessAnnouncement,
} from './simulator-process';

const REPO = path.resolve(__dirname, '..', '..');
const INSTANCE_ID = 'bench';
/** How long a child process may take to come up (tenant generation included). */
const START_TIMEOUT_MS = 120_000;
/** How long a child process may take to stop before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

export interface BenchHooks {
  /** Progress lines for a person watching (the JSON line itself goes elsewhere). */
  progress?: (message: string) => void;
  /** Aborting stops the benchmark and everything it started (Ctrl-C). */
  signal?: AbortSignal;
  /**
   * Write V8 CPU profiles (`node --cpu-prof`) of the worker and the simulators into subfolders of
   * this folder (`worker/`, `duo-simulator/`, `jupiterone-simulator/`), for finding where the time
   * goes. A profile is written when its process exits.
   */
  cpuProfileDir?: string;
  /**
   * Extra Node.js options for the worker process only (e.g. `--max-old-space-size=256`), to see how
   * the worker fares under a memory bound without constraining the simulators.
   */
  workerNodeOptions?: string;
}

/** A child process with its output collected line by line. */
interface Child {
  name: string;
  process: ChildProcess;
  /** The last lines it printed on stderr (and stdout for the worker), for error messages. */
  recent: string[];
  /** Lines on stdout not yet consumed by `nextLine`. */
  lines: string[];
  waiters: Array<() => void>;
  exited: Promise<void>;
}

const running = new Set<Child>();
// Last resort: whatever is still running when this process exits is killed with it.
process.once('exit', () => {
  for (const child of running) child.process.kill('SIGKILL');
});

function spawnChild(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { outputIsLog?: boolean } = {},
): Child {
  const processHandle = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const child: Child = {
    name,
    process: processHandle,
    recent: [],
    lines: [],
    waiters: [],
    exited: new Promise((resolve) => processHandle.once('exit', () => resolve())),
  };
  running.add(child);
  void child.exited.then(() => {
    running.delete(child);
    for (const wake of child.waiters.splice(0)) wake();
  });
  const remember = (line: string) => {
    child.recent.push(line);
    if (child.recent.length > 40) child.recent.shift();
  };
  createInterface({ input: processHandle.stderr! }).on('line', remember);
  createInterface({ input: processHandle.stdout! }).on('line', (line) => {
    if (options.outputIsLog) remember(line);
    child.lines.push(line);
    // Nobody reads the worker's log lines one by one: keep only a window of them.
    if (options.outputIsLog && child.lines.length > 200) child.lines.shift();
    for (const wake of child.waiters.splice(0)) wake();
  });
  // A child that exits early closes its stdin; writing to it must not crash the benchmark.
  processHandle.stdin!.on('error', () => undefined);
  return child;
}

function hasExited(child: Child): boolean {
  return child.process.exitCode !== null || child.process.signalCode !== null;
}

function childFailure(child: Child, what: string): Error {
  const tail = child.recent.length > 0 ? `\n${child.recent.slice(-15).join('\n')}` : '';
  return new Error(`The ${child.name} ${what}.${tail}`);
}

/** The next stdout line matching `accept`, waiting up to `timeoutMs`. */
async function nextLine(
  child: Child,
  accept: (line: string) => boolean,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = child.lines.findIndex(accept);
    if (index !== -1) return child.lines.splice(0, index + 1).pop()!;
    child.lines.length = 0;
    if (hasExited(child)) throw childFailure(child, `exited before ${what}`);
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) throw childFailure(child, `did not report ${what} within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(left, 1000));
      child.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** Asks a child to stop (stdin closed, then `signal`), and kills it if it does not in time. */
async function stopChild(child: Child, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  if (hasExited(child)) return;
  child.process.stdin?.end();
  child.process.kill(signal);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(timer);
}

/**
 * Settings that tune the worker without pointing it anywhere: kept, so a figure can be measured with
 * and without them (`DUO_J1_CONVERSION_THREAD=off npm run bench -- ...`).
 */
const WORKER_TUNING_SETTINGS = new Set([CONVERSION_THREAD_SETTING]);

/** The environment of a child: this one minus settings that would point it elsewhere, plus `extra`. */
function childEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(TEMPORAL_|DUO_|JUPITERONE_)/.test(key) && !WORKER_TUNING_SETTINGS.has(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** `node --cpu-prof` arguments writing into `<profileDir>/<name>`, or none when not profiling. */
function profileArgs(profileDir: string | undefined, name: string): string[] {
  return profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(path.resolve(profileDir), name)] : [];
}

function simulatorArgs(
  kind: 'duo' | 'jupiterone',
  profileDir: string | undefined,
  options?: DuoSimulatorProcessOptions,
): string[] {
  return [
    ...profileArgs(profileDir, `${kind}-simulator`),
    ...ownProgramArgs('bench/simulator-process'),
    kind,
    ...(options ? [JSON.stringify(options)] : []),
  ];
}

function parseJsonLine<T>(line: string): T {
  return JSON.parse(line) as T;
}

const isJsonObjectLine = (line: string) => line.startsWith('{');

/** Runs the benchmark once and returns its figures. */
export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchFigures> {
  const { signal } = hooks;
  const progress = hooks.progress ?? (() => undefined);
  const workDir = mkdtempSync(path.join(tmpdir(), 'duo-j1-bench-'));
  const children: Child[] = [];
  let serverStarting: Promise<DevServer> | undefined;
  let connection: Connection | undefined;
  try {
    signal?.throwIfAborted();
    const burst = rateLimitBurst(options.rateLimit);
    progress(`Generating a tenant of ${options.users} users and starting the simulators and Temporal…`);
    const duo = spawnChild(
      'Duo simulator',
      simulatorArgs('duo', hooks.cpuProfileDir, {
        users: options.users,
        seed: options.seed,
        counts: options.counts,
        latencyMs: options.latencyMs,
        requestsPerMinute: options.rateLimit,
        burst,
        logEventsPerMinute: (options.users * options.logAuthsPerUser) / (24 * 60),
      }),
      childEnvironment({}),
    );
    children.push(duo);
    const jupiterOne =
      options.target === 'jupiterone'
        ? spawnChild('JupiterOne simulator', simulatorArgs('jupiterone', hooks.cpuProfileDir), childEnvironment({}))
        : undefined;
    if (jupiterOne) children.push(jupiterOne);

    const [duoAnnouncement, jupiterOneAnnouncement, devServer, bundle] = await Promise.all([
      nextLine(duo, isJsonObjectLine, 'its URL', START_TIMEOUT_MS, signal).then(
        parseJsonLine<DuoSimulatorProcessAnnouncement>,
      ),
      jupiterOne
        ? nextLine(jupiterOne, isJsonObjectLine, 'its URL', START_TIMEOUT_MS, signal).then(
            parseJsonLine<JupiterOneSimulatorProcessAnnouncement>,
          )
        : undefined,
      (serverStarting = startDevServer()),
      // Built (or found in the cache) here rather than in the worker, so bundling does not count
      // towards the worker's peak memory.
      prebuiltWorkflowBundle(path.join(tmpdir(), 'duo-j1-bench-bundles')),
    ]);
    signal?.throwIfAborted();

    const taskQueue = `duo-j1-bench-${randomUUID().slice(0, 8)}`;
    const secrets: Record<string, string> = { DUO_J1_BENCH_DUO_SECRET_KEY: duoAnnouncement.secretKey };
    const requestsPerMinute = clientRequestsPerMinute(options.rateLimit, options.clientBudget);
    const instance: Record<string, unknown> = {
      id: INSTANCE_ID,
      pollingInterval: 'DISABLED',
      apiHostname: duoAnnouncement.apiHostname,
      integrationKey: duoAnnouncement.integrationKey,
      secretKey: { env: 'DUO_J1_BENCH_DUO_SECRET_KEY' },
      ...(requestsPerMinute === undefined ? {} : { requestsPerMinute }),
      insecureBaseUrl: duoAnnouncement.url,
      // Unthrottled: the tail's own work is measured; Duo's budget is applied to the figures.
      ...(options.logAuthsPerUser > 0
        ? { logs: { enabled: true, backfillDays: 1, requestsPerMinute: clientRequestsPerMinute(0) } }
        : {}),
    };
    if (jupiterOneAnnouncement) {
      secrets.DUO_J1_BENCH_JUPITERONE_API_KEY = jupiterOneAnnouncement.apiKey;
      instance.jupiterone = {
        account: jupiterOneAnnouncement.account,
        apiKey: { env: 'DUO_J1_BENCH_JUPITERONE_API_KEY' },
        baseUrl: jupiterOneAnnouncement.url,
        scope: 'duo-j1-bench',
        compressUploads: options.compressUploads,
      };
    }
    const instancesFile = path.join(workDir, 'instances.json');
    writeFileSync(instancesFile, JSON.stringify({ instances: [instance] }, null, 2), { mode: 0o600 });

    progress('Starting the worker process…');
    const worker = spawnChild(
      'worker process',
      [
        ...profileArgs(hooks.cpuProfileDir, 'worker'),
        ...ownProgramArgs('cli/main'),
        'worker',
        '--instances',
        instancesFile,
        '--task-queue',
        taskQueue,
        '--workflow-bundle',
        bundle,
        '--log-format',
        'json',
      ],
      childEnvironment({
        TEMPORAL_ADDRESS: devServer.address,
        TEMPORAL_NAMESPACE: devServer.namespace,
        DUO_J1_DATA_DIR: path.join(workDir, 'data'),
        ...(hooks.workerNodeOptions
          ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${hooks.workerNodeOptions}`.trim() }
          : {}),
        ...secrets,
      }),
      { outputIsLog: true },
    );
    children.push(worker);
    // Ready when its workers poll: a fact of the server, not a log line whose wording may change.
    connection = await Connection.connect({ address: devServer.address });
    const client = new Client({ connection, namespace: devServer.namespace });
    await waitForPoller(client, taskQueue, worker, signal);

    const logs =
      options.logAuthsPerUser > 0
        ? await tailDayOfLogs(client, taskQueue, path.join(workDir, 'data'), worker, progress, signal)
        : undefined;

    const lowerBound = fetchLowerBound(duoFetchChains(duoAnnouncement.recordsByPath), {
      latencyMs: options.latencyMs,
      requestsPerMinute: options.rateLimit,
      burst,
    });
    const bound = `fetch lower bound ${lowerBound.seconds.toFixed(1)} s, set by ${lowerBound.bottleneck}`;
    if (!options.previousRun) progress(`Running one ingestion (${bound})…`);
    const input: DuoIngestionInput = { instanceId: INSTANCE_ID };
    // Bounded: generous next to the lower bound, but a stuck run still ends the benchmark.
    const deadlineMs = 10 * 60_000 + 4 * lowerBound.seconds * 1000;
    const ingest = async () => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: `duo-j1-bench-${randomUUID()}`,
        args: [input],
      });
      const result = (await withDeadline(handle.result(), deadlineMs, worker, signal).catch(async (error: unknown) => {
        await handle.terminate('benchmark stopped').catch(() => undefined);
        throw runFailure(error);
      })) as DuoIngestionResult;
      if (result.outcome !== 'success') {
        // Figures of a run that left types out would flatter it: refuse them.
        throw new Error(
          `The ingestion run was partial (${result.partialTypes.map((p) => `${p.type}: ${p.reason}`).join('; ')}); no figures.`,
        );
      }
      return { handle, result };
    };
    const duoReport = async () => {
      duo.process.stdin!.write('report\n');
      return parseJsonLine<DuoSimulatorProcessReport>(
        await nextLine(duo, isJsonObjectLine, 'its request counts', 30_000, signal),
      );
    };
    let before: DuoSimulatorProcessReport = { requests: {}, http429: 0 };
    if (options.previousRun) {
      progress(`Running the ingestion before the measured one, for the output it leaves (${bound})…`);
      await ingest();
      before = await duoReport();
      resetPeakRss(worker.process.pid!);
      progress('Running the measured ingestion, which compares with that output…');
    }
    // The worker's CPU over the run only: starting the process (loading modules) is not per user.
    const cpuSecondsAtStart = cpuSecondsFromProcStat(procFile(worker.process.pid!, 'stat'));
    const { handle, result } = await ingest();

    // Read right away: VmHWM is the worker's high-water mark so far, i.e. over the whole run.
    const peakRssMb = peakRssMbFromProcStatus(procFile(worker.process.pid!, 'status'));
    const cpuSeconds = cpuSecondsFromProcStat(procFile(worker.process.pid!, 'stat')) - cpuSecondsAtStart;
    const history = await handle.fetchHistory();
    const report = requestsBetween(before, await duoReport());

    if (hooks.cpuProfileDir) {
      // Profiles are written when a process exits; give each the time to do so.
      progress(`Stopping the processes so they write their CPU profiles into ${path.resolve(hooks.cpuProfileDir)}…`);
      for (const child of [...children].reverse()) await stopChild(child, 'SIGTERM', 60_000);
    }
    return benchFigures({
      options,
      result,
      duoRequests: report,
      lowerBound,
      peakRssMb,
      cpuSeconds,
      history: {
        events: history.events?.length ?? 0,
        bytes: temporal.api.history.v1.History.encode(history).finish().length,
      },
      logs,
    });
  } finally {
    await connection?.close().catch(() => undefined);
    // The worker first: it still talks to the others while it shuts down.
    for (const child of children.reverse()) await stopChild(child);
    // Awaited even when something else failed first: a server still starting is stopped too.
    await serverStarting?.then((server) => server.stop()).catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * Starts the instance's log tail and waits until it has read the simulator's day of
 * authentications: the catch-up time, and the size of the aggregates it keeps.
 */
async function tailDayOfLogs(
  client: Client,
  taskQueue: string,
  dataDir: string,
  worker: Child,
  progress: (message: string) => void,
  signal?: AbortSignal,
): Promise<LogTailFigures> {
  progress('Tailing a day of Duo authentication logs…');
  const startedAt = Date.now();
  const input: DuoLogTailInput = { instanceId: INSTANCE_ID, backfillDays: 1, tuning: { pollSeconds: 5 } };
  const handle = await client.workflow.start(LOG_TAIL_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: logTailWorkflowId(INSTANCE_ID),
    args: [input],
  });
  const caughtUp = (async () => {
    for (;;) {
      signal?.throwIfAborted();
      const state = await handle.query(logTailStateQuery);
      if (state.caughtUpAt !== undefined && state.cursor?.nextOffset === undefined) return state;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  const state = await withDeadline(caughtUp, 60 * 60_000, worker, signal);
  const catchUpSeconds = (Date.now() - startedAt) / 1000;
  const stored = await readAggregateFile(aggregateFilePath(dataDir, INSTANCE_ID));
  if (!stored) throw new Error('The log tail caught up but left no aggregates file.');
  const { authentication } = stored.file;
  const jsonBytes = Buffer.byteLength(JSON.stringify(stored.file));
  progress(`Log tail caught up: ${state.events} events in ${state.pages} pages, ${catchUpSeconds.toFixed(1)} s.`);
  return {
    events: state.events,
    pages: state.pages,
    catchUpSeconds: Math.round(catchUpSeconds * 10) / 10,
    // Each page is one request; Duo's budget allows one a minute.
    catchUpMinutesAtDuoBudget: state.pages,
    aggregateBytes: stored.bytes,
    aggregateJsonBytes: jsonBytes,
    usersWithActivity: Object.keys(authentication.users).length,
    usagePairs: Object.values(authentication.usage).reduce(
      (sum, byIntegration) => sum + Object.keys(byIntegration).length,
      0,
    ),
  };
}

/** `/proc/<pid>/status` or `stat`; the benchmark measures memory and CPU the way Linux reports them. */
/** Makes the process's peak RSS (`VmHWM`) start again from its current RSS: Linux does so when 5 is written to `clear_refs`. */
function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch (error) {
    throw new Error(
      `Cannot reset the worker's peak memory in /proc/${pid}/clear_refs (${(error as NodeJS.ErrnoException).code ?? 'unwritable'}): run without --previous-run, whose peak would otherwise be the first run's.`,
      { cause: error },
    );
  }
}

function procFile(pid: number, name: 'status' | 'stat'): string {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch (error) {
    throw new Error(
      `Cannot read /proc/${pid}/${name} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}): the benchmark measures the worker's memory and CPU there, so it runs on Linux only.`,
      { cause: error },
    );
  }
}

/** The reason a run failed, with the workflow's own failure message rather than the client's wrapper. */
function runFailure(error: unknown): Error {
  if (error instanceof WorkflowFailedError) {
    const cause = error.cause;
    const inner = cause?.cause instanceof Error ? ` (${cause.cause.message})` : '';
    const detail = cause ? `${cause.message}${inner}` : error.message;
    return new Error(`The ingestion run failed: ${detail}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Waits until a worker polls the task queue (that is when it is ready for the run). */
async function waitForPoller(client: Client, taskQueue: string, worker: Child, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (hasExited(worker)) throw childFailure(worker, 'exited while starting');
    signal?.throwIfAborted();
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((pollers?.length ?? 0) > 0) return;
    if (Date.now() > deadline)
      throw childFailure(worker, `did not poll its task queue within ${START_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `promise`, unless the deadline passes, the worker dies or the benchmark is aborted first. */
async function withDeadline<T>(
  promise: Promise<T>,
  deadlineMs: number,
  worker: Child,
  signal?: AbortSignal,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`The run did not finish within ${Math.round(deadlineMs / 1000)} s`)),
      deadlineMs,
    );
    void worker.exited.then(() => reject(childFailure(worker, 'exited during the run')));
    onAbort = () => reject(new Error('Benchmark interrupted'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  // Once the race is decided, a later rejection (the worker stopped afterwards) is of no interest.
  stopped.catch(() => undefined);
  try {
    return await Promise.race([promise, stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
