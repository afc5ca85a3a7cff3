/**
 * `duo-j1 start` (what `npm start` runs): the main job on embedded defaults.
 *
 *  1. Temporal: the cluster named by TEMPORAL_ADDRESS, or else an embedded dev server with its Web
 *     UI, its state kept in the data folder (a second start sees the first one's runs).
 *  2. Duo: the configured instances, or else a generated sample tenant served by the bundled Duo
 *     simulator (said loudly: it is not your data).
 *  3. A worker in this process; one run per instance, followed live; a summary naming the output
 *     folder, the HTML picture, the change report and the Temporal UI.
 *  4. With --keep-running: the schedules applied, everything up until Ctrl-C.
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { SdkComponent } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { DEFAULT_SCHEDULE, loadConfig, type AppConfig, type InstanceConfig } from '../../config/instances';
import { parseDuoApiHostname } from '../../duo/hostname';
import { applySchedules, formatApplyReport } from '../../schedules';
import { applyLogTails, formatLogTailChanges } from '../../logs/tails';
import { startDuoSimulator, type DuoSimulator } from '../../simulators/duo/server';
import { generateTenant } from '../../simulators/duo/tenant-generator';
import { resolveTemporalSettings, type TemporalSettings } from '../../worker/connection';
import { startDevServer, type DevServer } from '../../worker/dev-server';
import { CORE_LOG_FORWARDING } from '../../worker/logging';
import { boundHeapGrowth } from '../../worker/memory';
import { startWorkerRuntime, type WorkerRuntime } from '../../worker/runtime';
import { EXECUTION_TIMEOUT_BACKSTOP_SECONDS, WORKFLOW_TYPE, ingestionWorkflowId } from '../../workflows/contract';
import { ExitCode } from '../exit-codes';
import { exitCodeOf, followRun, formatRunSummary, type RunOutcome } from '../follow-run';
import { printJson } from '../output';

export interface StartFlags {
  instances?: string;
  keepRunning?: boolean;
  sampleUsers: string;
  json?: boolean;
}

const SAMPLE_INSTANCE_ID = 'sample';
/** The sample tenant is the same every time, so a second start reports zero changes. */
const SAMPLE_SEED = 1;
const PREFERRED_UI_PORT = 8233;

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The generated sample tenant, served on loopback, as an instance of its own. */
async function startSampleTenant(users: number): Promise<{ simulator: DuoSimulator; instance: InstanceConfig }> {
  const simulator = await startDuoSimulator({ tenant: generateTenant({ users, seed: SAMPLE_SEED }) });
  const instance: InstanceConfig = {
    id: SAMPLE_INSTANCE_ID,
    accountName: 'Sample tenant (generated)',
    description: 'A generated Duo tenant served by the bundled simulator',
    pollingInterval: 'ONE_HOUR',
    schedule: DEFAULT_SCHEDULE,
    tagWithAccountName: false,
    phoneNumbers: 'keep',
    duo: {
      apiHostname: simulator.apiHostname,
      siteId: parseDuoApiHostname(simulator.apiHostname).siteId,
      integrationKey: simulator.integrationKey,
      secretKey: { value: simulator.secretKey, description: 'the sample simulator’s secret key' },
      signatureVersion: 'v5',
      requestsPerMinute: 6000,
      insecureBaseUrl: simulator.url,
    },
  };
  return { simulator, instance };
}

/**
 * Temporal's usual UI port when nothing listens there, else undefined: the server then picks a
 * free one (and picks again should another process take it first).
 */
async function preferredUiPort(): Promise<number | undefined> {
  const available = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(PREFERRED_UI_PORT, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return available ? PREFERRED_UI_PORT : undefined;
}

async function startRun(client: Client, config: AppConfig, instanceId: string) {
  try {
    return await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: ingestionWorkflowId(instanceId),
      args: [{ instanceId }],
      memo: { instanceId },
      // A backstop behind the run's own deadline, as for `duo-j1 run`.
      workflowExecutionTimeout: `${EXECUTION_TIMEOUT_BACKSTOP_SECONDS} seconds`,
    });
  } catch (error) {
    // A run left in progress by an earlier, interrupted start: follow it instead.
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      say(`A run of ${instanceId} is already in progress; following it.`);
      return client.workflow.getHandle(ingestionWorkflowId(instanceId));
    }
    throw error;
  }
}

export async function startCommand(flags: StartFlags): Promise<number> {
  const sampleUsers = Number(flags.sampleUsers);
  if (!Number.isInteger(sampleUsers) || sampleUsers < 1)
    throw new Error('--sample-users must be a whole number of at least 1');
  const loaded = loadConfig(process.env, { instancesFile: flags.instances, allowNoInstances: true });
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    say('\nStopping (the worker finishes its current step; runs resume on the next start) ...');
    void cleanUp().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    let config = loaded;
    if (config.instances.length === 0) {
      const sample = await startSampleTenant(sampleUsers);
      cleanups.push(() => sample.simulator.close());
      config = { ...config, instances: [sample.instance], source: 'sample' };
      say(
        `No Duo account is configured (DUO_API_HOSTNAME, DUO_INTEGRATION_KEY, DUO_SECRET_KEY or DUO_J1_INSTANCES), ` +
          `so this run reads a generated SAMPLE tenant of ${sampleUsers} users served by the bundled Duo simulator.`,
      );
    }
    await mkdir(config.dataDir, { recursive: true });

    let temporal: TemporalSettings;
    let server: DevServer | undefined;
    if (process.env.TEMPORAL_ADDRESS) {
      temporal = resolveTemporalSettings();
      say(`Temporal: ${temporal.address} (namespace ${temporal.namespace}), from TEMPORAL_ADDRESS.`);
    } else {
      const stateDir = path.join(config.dataDir, 'temporal');
      await mkdir(stateDir, { recursive: true });
      say('Starting the embedded Temporal server ...');
      server = await startDevServer({
        ui: true,
        uiPort: await preferredUiPort(),
        dbFile: path.join(stateDir, 'temporal.sqlite'),
      });
      cleanups.push(() => server!.stop());
      temporal = { address: server.address, namespace: server.namespace };
      say(`Temporal: ${server.address}; Web UI: ${server.uiUrl}`);
    }

    Runtime.install({
      // Plain lines on stderr, as the rest of what this command says (stdout is the summary, or
      // JSON with --json): the SDK's errors, and its core's warnings (a workflow task that cannot
      // run, such as a nondeterminism), which the core would otherwise print on stdout.
      logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
        if (level === 'ERROR' || meta?.sdkComponent === SdkComponent.core) say(`${level.toLowerCase()}: ${message}`);
      }),
      shutdownSignals: [],
      telemetryOptions: { logging: CORE_LOG_FORWARDING },
    });
    boundHeapGrowth();
    const runtime: WorkerRuntime = await startWorkerRuntime({
      config,
      temporal,
      // Warnings and errors of the worker (the simulator's insecure base URL among them) as plain lines.
      log: (level, message, fields) => {
        if (level === 'warn' || level === 'error')
          say(`${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
      },
    });
    cleanups.push(() => runtime.stop());
    say(
      `Worker: task queue ${config.taskQueue} (host queue ${runtime.workers.hostTaskQueue}); data folder ${config.dataDir}`,
    );
    say(`Pipeline: validate → fetch (every resource switched on, in parallel) → build graph → deliver → report.`);

    // Tails of instances with logs on run beside the ingestion runs, in their own workflows.
    const tails = formatLogTailChanges(await applyLogTails(runtime.client, config, { taskQueue: config.taskQueue }));
    if (tails) say(tails);

    const outcomes: { instanceId: string; outcome: RunOutcome }[] = [];
    for (const instance of config.instances) {
      say(
        `Ingesting ${instance.id} → ${instance.jupiterone ? `JupiterOne (account ${instance.jupiterone.account})` : 'the local graph directory'} ...`,
      );
      const handle = await startRun(runtime.client, config, instance.id);
      const outcome = await followRun(handle, { quiet: flags.json });
      outcomes.push({ instanceId: instance.id, outcome });
      if (!flags.json) process.stdout.write(`${formatRunSummary(outcome)}\n`);
    }
    if (flags.json)
      printJson(outcomes.map(({ outcome }) => (outcome.status === 'completed' ? outcome.result : outcome)));
    if (server) say(`Temporal UI: ${server.uiUrl} (runs of this start and earlier ones)`);

    if (flags.keepRunning) {
      const report = await applySchedules(runtime.client, config, { taskQueue: config.taskQueue });
      say(formatApplyReport(report));
      say('Running until Ctrl-C: the worker serves the schedules above and runs started from the UI or CLI.');
      await new Promise<never>(() => undefined);
    }
    const codes = outcomes.map(({ outcome }) => exitCodeOf(outcome));
    return codes.find((code) => code !== ExitCode.Success) ?? ExitCode.Success;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) await cleanUp();
  }
}
