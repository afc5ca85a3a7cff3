/** `duo-j1 worker`: a long-running worker for an existing Temporal cluster. */
import type { DuoClientTuning } from '../../duo/client';
import { Runtime } from '@temporalio/worker';
import { loadConfig } from '../../config/instances';
import { resolveTemporalSettings } from '../../worker/connection';
import { createLoggers, parseLogLevel, type LogFormat } from '../../worker/logging';
import { boundHeapGrowth } from '../../worker/memory';
import { startWorkerRuntime } from '../../worker/runtime';
import { ExitCode } from '../exit-codes';

export interface WorkerFlags {
  instances?: string;
  taskQueue?: string;
  workflowBundle?: string;
  metrics?: string;
  logFormat: string;
  logLevel: string;
  address?: string;
  namespace?: string;
  profile?: string;
}

/** `DUO_J1_DUO_BACKOFF_SCHEDULE_MS=1000,2000,...`: the waits before retrying a 429 (default Duo's own). */
export function duoBackoffFromEnvironment(env: NodeJS.ProcessEnv): DuoClientTuning {
  const value = env.DUO_J1_DUO_BACKOFF_SCHEDULE_MS;
  if (!value) return {};
  const schedule = value.split(',').map((part) => Number(part.trim()));
  if (schedule.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new Error(
      'DUO_J1_DUO_BACKOFF_SCHEDULE_MS must be a comma-separated list of milliseconds, e.g. 1000,2000,4000',
    );
  }
  return {
    rateLimitBackoffMs: schedule,
    transientRetryBackoffMs: schedule.slice(0, 3),
    retryJitterMs: Math.min(1000, schedule[0] ?? 0),
  };
}

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const env = { ...process.env, ...(flags.taskQueue ? { DUO_J1_TASK_QUEUE: flags.taskQueue } : {}) };
  const config = loadConfig(env, { instancesFile: flags.instances });
  const temporal = resolveTemporalSettings(flags);
  if (flags.logFormat !== 'json' && flags.logFormat !== 'text') throw new Error('--log-format must be json or text');
  const { log, sdkLogger } = createLoggers(flags.logFormat as LogFormat, parseLogLevel(flags.logLevel));
  Runtime.install({
    logger: sdkLogger,
    // SIGINT and SIGTERM shut the workers down gracefully: running activities get the grace time.
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    ...(flags.metrics ? { telemetryOptions: { metrics: { prometheus: { bindAddress: flags.metrics } } } } : {}),
  });
  boundHeapGrowth();
  const runtime = await startWorkerRuntime({
    config,
    temporal,
    log,
    workflowBundlePath: flags.workflowBundle,
    duoClientOptions: duoBackoffFromEnvironment(process.env),
  });
  if (flags.metrics) log('info', 'Serving Prometheus metrics', { address: `http://${flags.metrics}/metrics` });
  await runtime.running;
  log('info', 'Worker stopped');
  return ExitCode.Success;
}
