/**
 * `duo-j1 worker`: a long-running worker for an existing Temporal cluster, made to run under a
 * supervisor (Kubernetes, systemd, ...):
 *
 *  - It fails fast. A configuration it cannot use, or a Temporal it cannot reach or may not use
 *    (address, TLS, API key, namespace, permission to poll), ends it within seconds, non-zero, with
 *    one log line naming the setting to fix.
 *  - It stops when told, at any stage. SIGTERM or SIGINT drains it (it takes no new task; running
 *    activities get the shutdown grace time, then are cancelled and retried elsewhere) and ends the
 *    process. A second signal, or a drain that overruns, ends it at once.
 *  - With `--metrics host:port`, that one address serves `/metrics`, `/healthz` and `/readyz`.
 */
import { Runtime } from '@temporalio/worker';
import type { Logger } from '../../activities/dependencies';
import { ConfigurationError } from '../../config/errors';
import { loadConfig } from '../../config/instances';
import type { DuoClientTuning } from '../../duo/client';
import { resolveTemporalSettings } from '../../worker/connection';
import { freePort } from '../../worker/dev-server';
import { startHealthServer, type HealthServer, type WorkerPhase } from '../../worker/health-server';
import { CORE_LOG_FORWARDING, createLoggers, parseLogLevel, type LogFormat } from '../../worker/logging';
import { boundHeapGrowth } from '../../worker/memory';
import { startWorkerRuntime, type WorkerRuntime } from '../../worker/runtime';
import { HISTOGRAM_BUCKETS } from '../../telemetry/activity-metrics';
import { tracingFromEnvironment, type DuoJ1Tracing } from '../../telemetry/tracing';
import { TemporalAccessError } from '../../worker/temporal-access';
import { workerDeploymentFromEnvironment } from '../../worker/versioning';
import { SHUTDOWN_GRACE_MS } from '../../worker/workers';
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

/** After a shutdown signal, how long the drain may take before the process exits regardless. */
const DRAIN_DEADLINE_MS = SHUTDOWN_GRACE_MS + 15_000;

/** `DUO_J1_DUO_BACKOFF_SCHEDULE_MS=1000,2000,...`: the waits before retrying a 429 (default Duo's own). */
export function duoBackoffFromEnvironment(env: NodeJS.ProcessEnv): DuoClientTuning {
  const value = env.DUO_J1_DUO_BACKOFF_SCHEDULE_MS;
  if (!value) return {};
  const schedule = value.split(',').map((part) => Number(part.trim()));
  if (schedule.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new ConfigurationError([
      {
        setting: 'DUO_J1_DUO_BACKOFF_SCHEDULE_MS',
        message: 'must be a comma-separated list of milliseconds, e.g. 1000,2000,4000',
      },
    ]);
  }
  return {
    rateLimitBackoffMs: schedule,
    transientRetryBackoffMs: schedule.slice(0, 3),
    retryJitterMs: Math.min(1000, schedule[0] ?? 0),
  };
}

/** Logs why the worker cannot run — one line, naming the setting when there is one — and returns its exit code. */
function reportFailure(log: Logger, error: unknown): ExitCode {
  if (error instanceof ConfigurationError) {
    log('error', error.message, { settings: error.problems.map((problem) => problem.setting) });
    return ExitCode.Usage;
  }
  if (error instanceof TemporalAccessError) {
    log('error', error.message, { setting: error.setting });
    return ExitCode.Failure;
  }
  log('error', `The worker failed: ${error instanceof Error ? error.message : String(error)}`, { error });
  return ExitCode.Failure;
}

/**
 * Ends the process with `code` once this command has returned, even if the SDK still holds a
 * handle open (a worker created but never run, a connection mid-close): a supervisor must see the
 * process end.
 */
function exitSoon(code: ExitCode): ExitCode {
  setTimeout(() => process.exit(code), 1_000).unref();
  return code;
}

export async function workerCommand(flags: WorkerFlags): Promise<number> {
  if (flags.logFormat !== 'json' && flags.logFormat !== 'text') throw new Error('--log-format must be json or text');
  const { log, sdkLogger } = createLoggers(flags.logFormat as LogFormat, parseLogLevel(flags.logLevel));

  let phase: WorkerPhase = 'starting';
  let runtime: WorkerRuntime | undefined;
  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) {
      log('warn', 'Second signal: exiting without waiting for running activities', { signal });
      process.exit(ExitCode.Failure);
    }
    stopRequested = true;
    if (!runtime) {
      // Nothing polled yet, so nothing to hand back: stop here.
      log('info', 'Stopped before polling started', { signal });
      process.exit(ExitCode.Success);
    }
    phase = 'draining';
    log('info', 'Stopping: taking no new tasks; running activities get the shutdown grace time', {
      signal,
      graceSeconds: SHUTDOWN_GRACE_MS / 1000,
    });
    runtime.workers.shutdown();
    setTimeout(() => {
      log('error', `The workers did not stop within ${DRAIN_DEADLINE_MS / 1000} s; exiting`);
      process.exit(ExitCode.Failure);
    }, DRAIN_DEADLINE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let health: HealthServer | undefined;
  let tracing: DuoJ1Tracing | undefined;
  try {
    const env = { ...process.env, ...(flags.taskQueue ? { DUO_J1_TASK_QUEUE: flags.taskQueue } : {}) };
    const config = loadConfig(env, { instancesFile: flags.instances });
    const temporal = resolveTemporalSettings(flags);
    const duoClientOptions = duoBackoffFromEnvironment(process.env);
    // On only when the OTEL_* variables ask for it; spans are flushed when the worker stops.
    tracing = tracingFromEnvironment(process.env);
    if (tracing)
      log('info', 'Tracing runs with OpenTelemetry', { exporter: process.env.OTEL_TRACES_EXPORTER ?? 'otlp' });

    // The SDK's own metrics listen on a loopback port of their own, relayed by the health server.
    const coreMetrics = flags.metrics ? `127.0.0.1:${await freePort()}` : undefined;
    Runtime.install({
      logger: sdkLogger,
      // The signals are handled above: the process must end on one at any stage, workers or not.
      shutdownSignals: [],
      telemetryOptions: {
        // The native core's log lines go through the same JSON lines as ours.
        logging: CORE_LOG_FORWARDING,
        ...(coreMetrics
          ? { metrics: { prometheus: { bindAddress: coreMetrics, histogramBucketOverrides: HISTOGRAM_BUCKETS } } }
          : {}),
      },
    });
    if (flags.metrics && coreMetrics) {
      health = await startHealthServer(flags.metrics, coreMetrics, () => phase);
      log('info', 'Serving metrics and probes', {
        metrics: `http://${flags.metrics}/metrics`,
        liveness: `http://${flags.metrics}/healthz`,
        readiness: `http://${flags.metrics}/readyz`,
      });
    }
    boundHeapGrowth();

    runtime = await startWorkerRuntime({
      config,
      temporal,
      log,
      workflowBundlePath: flags.workflowBundle,
      duoClientOptions,
      tracing,
      workerOptions: { workerDeploymentOptions: workerDeploymentFromEnvironment(config.taskQueue, env) },
    });
    phase = 'polling';
    await runtime.running;
    phase = 'stopped';
    log('info', 'Worker stopped');
    return exitSoon(ExitCode.Success);
  } catch (error) {
    phase = 'failed';
    return exitSoon(reportFailure(log, error));
  } finally {
    await tracing?.spanProcessor.shutdown().catch(() => undefined);
    await health?.close();
  }
}
