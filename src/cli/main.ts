/**
 * The duo-j1 command. Each subcommand lives in its own module under ./commands and is loaded only
 * when it runs (hence `require` in the actions), so `--help` stays instant.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from './exit-codes';
import { reportError } from './output';

type Action = (...args: never[]) => Promise<number | void>;

/** Runs a command module's action and exits with its code; errors become readable messages. */
function action(load: () => Action): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    let code: number;
    try {
      code = (await (load() as (...a: unknown[]) => Promise<number | void>)(...args)) ?? ExitCode.Success;
    } catch (error) {
      code = reportError(error);
    }
    process.exitCode = code;
  };
}

const instancesOption = () =>
  new Option(
    '--instances <file>',
    'JSON file describing the Duo instances (default: $DUO_J1_INSTANCES, or DUO_* variables)',
  );
const taskQueueOption = () =>
  new Option('--task-queue <name>', 'shared task queue (default: $DUO_J1_TASK_QUEUE or duo-j1)');
const temporalOptions = (command: Command) =>
  command
    .option('--address <host:port>', 'Temporal frontend address (default: $TEMPORAL_ADDRESS or your Temporal profile)')
    .option('--namespace <name>', 'Temporal namespace (default: $TEMPORAL_NAMESPACE or default)')
    .option('--profile <name>', 'Temporal environment-configuration profile (default: $TEMPORAL_PROFILE)');

export function buildProgram(): Command {
  const program = new Command()
    .name('duo-j1')
    .description('Reads a Duo account through the Duo Admin API and delivers it to the JupiterOne graph, on Temporal.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description(
      'The main job on embedded defaults: starts a Temporal dev server (with its Web UI) and a worker, ingests every configured Duo instance once — or a generated sample tenant when none is configured — and prints a summary',
    )
    .addOption(instancesOption())
    .option(
      '--keep-running',
      'stay up afterwards with the Web UI, the worker and the configured schedules applied (Ctrl-C stops)',
    )
    .option('--sample-users <n>', 'size of the generated sample tenant', '250')
    .option('--json', 'print the run results as JSON')
    .action(action(() => require('./commands/start').startCommand));

  temporalOptions(
    program
      .command('worker')
      .description('Runs a long-lived worker against an existing Temporal cluster (shared queue and this host’s queue)')
      .addOption(instancesOption())
      .addOption(taskQueueOption())
      .option(
        '--workflow-bundle <file>',
        'prebuilt workflow bundle (default: built once and cached in the data folder)',
      )
      .option(
        '--metrics <host:port>',
        'serve Prometheus metrics (/metrics) and Kubernetes probes (/healthz, /readyz) on this address, e.g. 0.0.0.0:9464',
      )
      .option('--log-format <format>', 'json or text', 'json')
      .option('--log-level <level>', 'DEBUG, INFO, WARN or ERROR', 'INFO'),
  ).action(action(() => require('./commands/worker').workerCommand));

  temporalOptions(
    program
      .command('run')
      .description('Starts one ingestion of an instance (workflow id duo-ingestion-<instanceId>) and follows it')
      .option('--instance <id>', 'instance to ingest (default: the only configured one)')
      .addOption(instancesOption())
      .addOption(taskQueueOption())
      .option('--no-wait', 'start the run and return without following it')
      .option('--json', 'print the result as JSON'),
  ).action(action(() => require('./commands/run').runCommand));

  const schedule = program.command('schedule').description('Manages the polling schedules (one per instance)');
  const scheduleCommand = (name: string, description: string, withInstance: boolean) => {
    const command = temporalOptions(schedule.command(name).description(description))
      .addOption(instancesOption())
      .addOption(taskQueueOption())
      .option('--json', 'print the outcome as JSON');
    if (withInstance) command.option('--instance <id>', 'instance (default: every configured instance)');
    return command.action(action(() => require('./commands/schedule').scheduleCommands[name]));
  };
  scheduleCommand(
    'apply',
    'Creates, updates and deletes schedules to match the configured instances and their polling intervals',
    false,
  );
  scheduleCommand('describe', 'Shows a schedule: its spec, next runs and recent runs with their outcomes', true);
  scheduleCommand('pause', 'Pauses schedules (apply leaves them paused)', true);
  scheduleCommand('unpause', 'Unpauses schedules', true);
  scheduleCommand('trigger', 'Starts a run now through the schedule (skipped if one is in progress)', true);
  scheduleCommand('delete', 'Deletes schedules', true);
  scheduleCommand('list', 'Lists duo-j1 schedules with their next and last runs', false);

  const cluster = program.command('cluster').description('Prepares a Temporal namespace for duo-j1');
  temporalOptions(
    cluster
      .command('setup')
      .description(
        'Registers the search attributes runs upsert (DuoInstanceId, DuoOutcome; Keyword) in the namespace; safe to run again',
      )
      .option('--json', 'print the outcome as JSON'),
  ).action(action(() => require('./commands/cluster').clusterSetupCommand));

  temporalOptions(
    program
      .command('replay')
      .description(
        'Before a deploy: replays recent executions from the cluster against this install’s workflow code; exits 1 naming every history it cannot replay',
      )
      .option(
        '--query <visibility query>',
        "which executions, open and closed (default: WorkflowType IN ('duoIngestion', 'duoInstanceCoordinator', 'duoLogTail'))",
      )
      .option('--limit <n>', 'replay at most the n most recent matches', '100')
      .option('--workflow-bundle <file>', 'workflow bundle to check (default: the one this install ships)')
      .option('--json', 'print the outcome as JSON (for deploy pipelines)'),
  ).action(action(() => require('./commands/replay').replayCommand));

  program
    .command('validate')
    .description('Checks the Duo credentials of each instance and which Admin API grants are present or missing')
    .option('--instance <id>', 'instance to check (default: all)')
    .addOption(instancesOption())
    .option('--json', 'print the outcome as JSON')
    .action(action(() => require('./commands/validate').validateCommand));

  const simulate = program
    .command('simulate')
    .description('Runs a bundled simulator on loopback (tests, demos, benchmarks)');
  simulate
    .command('duo')
    .description(
      'Duo Admin API simulator serving a generated tenant; prints one JSON line with its URL and test credentials',
    )
    .option('--users <n>', 'users in the generated tenant', '1000')
    .option('--seed <n>', 'generator seed', '1')
    .option('--port <n>', 'port (default: a free one)', '0')
    .option('--latency-ms <n>', 'added latency per request', '0')
    .option('--rate-limit <n>', 'requests per minute per endpoint and key (default: unlimited)')
    .option('--log-rate-limit <n>', 'requests per minute per log endpoint and key (default: 2, as Duo)')
    .option('--log-events-per-minute <n>', 'authentication log events per minute (default: one per 100 users)')
    .option('--log-delay-seconds <n>', 'seconds before a log event is served (default: 120, as Duo)')
    .option('--phones <n>', 'phones (default: in proportion to users)')
    .option('--tokens <n>', 'hardware tokens (default: in proportion to users)')
    .option('--webauthn <n>', 'WebAuthn credentials (default: in proportion to users)')
    .option('--groups <n>', 'groups (default: in proportion to users)')
    .option('--admins <n>', 'administrators (default: in proportion to users)')
    .option('--integrations <n>', 'integrations (default: in proportion to users)')
    .option('--bypass-codes <n>', 'bypass codes (default: in proportion to users)')
    .option('--endpoints <n>', 'trusted endpoints (default: in proportion to users)')
    .option('--policies <n>', 'custom policies besides the global one (default: in proportion to integrations)')
    .option('--admin-units <n>', 'administrative units (default: in proportion to administrators)')
    .option('--error-rate <fraction>', 'fraction of requests answered 500', '0')
    .option('--reset-rate <fraction>', 'fraction of connections reset', '0')
    .option('--short-pages', 'honour the limit parameter only partly')
    .option(
      '--faults <json>',
      'any of the simulator\'s faults as JSON (or @file), e.g. \'{"pagingAnomalies":{"/admin/v1/users":{"kind":"stuck-offset","fromOffset":3000}}}\'; wins over the shorthands above; see docs/simulators.md',
    )
    .option('--fault-seed <n>', 'seed of the fault dice, to repeat a faulty run', '1')
    .action(action(() => require('./commands/simulate').simulateDuoCommand));
  simulate
    .command('jupiterone')
    .description('JupiterOne synchronization API simulator; prints one JSON line with its URL, API key and account')
    .option('--port <n>', 'port (default: a free one)', '0')
    .option('--error-rate <fraction>', 'fraction of requests answered 500', '0')
    .option('--rate-limit-rate <fraction>', 'fraction of requests answered 429', '0')
    .option(
      '--faults <json>',
      'any of the simulator\'s faults as JSON (or @file), e.g. \'{"scheduled":[{"kind":"reset-after-processing","route":"start-job"}]}\'; wins over the shorthands above; see docs/simulators.md',
    )
    .action(action(() => require('./commands/simulate').simulateJupiterOneCommand));

  program
    .command('document')
    .description('Regenerates the Data Model section of docs/jupiterone.md from the declared data model')
    .option('--check', 'fail instead of writing when the committed section is out of date')
    .action(action(() => require('./commands/document').documentCommand));

  program
    .command('visualize')
    .description('Writes the HTML picture of a local graph directory (opens offline)')
    .argument('[output-dir]', 'instance output folder (default: data/output/<instance>)')
    .option('--instance <id>', 'instance whose output to draw', 'default')
    .action(action(() => require('./commands/visualize').visualizeCommand));

  program
    .command('bench')
    .description('Benchmarks the whole pipeline against the simulators and prints one JSON line of figures')
    .option('--users <n>', 'users in the generated tenant', '10000')
    .option('--target <target>', 'local or jupiterone', 'local')
    .option('--latency-ms <n>', 'simulated Duo latency per request', '20')
    .option('--rate-limit <n>', 'Duo list requests per minute per endpoint in the simulator; 0 = unlimited', '0')
    .option(
      '--client-budget <budget>',
      "the client's requestsPerMinute: match (the simulator's limit), default (unset: adaptive) or a number",
      'match',
    )
    .option('--seed <n>', 'generator seed', '1')
    .option('--phones <n>', 'phones (default: in proportion)')
    .option('--tokens <n>', 'tokens (default: in proportion)')
    .option('--webauthn <n>', 'WebAuthn credentials (default: in proportion)')
    .option('--groups <n>', 'groups (default: in proportion)')
    .option('--admins <n>', 'admins (default: in proportion)')
    .option('--integrations <n>', 'integrations (default: in proportion)')
    .option('--bypass-codes <n>', 'bypass codes (default: in proportion)')
    .option('--endpoints <n>', 'trusted endpoints (default: in proportion)')
    .option('--policies <n>', 'custom policies (default: in proportion)')
    .option('--admin-units <n>', 'administrative units (default: in proportion)')
    .option(
      '--log-auths-per-user <n>',
      'tail a day of Duo authentication logs with this many authentications per user before the run, and report the catch-up and the aggregates size; 0 = logs off',
      '0',
    )
    .option('--compress-uploads <on|off>', 'gzip the uploads to the JupiterOne simulator, as installed', 'on')
    .option(
      '--previous-run <on|off>',
      "run one ingestion before the measured one, which then compares with and replaces its output, as a schedule's every run after the first",
      'off',
    )
    .action(action(() => require('./commands/bench').benchCommand));

  return program;
}

export async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with code 2.
      process.exitCode = error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
      return;
    }
    process.exitCode = reportError(error);
  }
}

// Run as a program: `bin/duo-j1.js` calls `main()` on the compiled code; tests and development run
// this file from the sources (`node --require tsx/cjs src/cli/main.ts …`).
if (require.main === module) void main();
