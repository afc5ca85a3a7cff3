import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { WorkflowHandle } from '@temporalio/client';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { WORKFLOW_TYPE, progressQuery, type DuoIngestionResult } from '../src/workflows/contract';
import { consumerProject, readmeLibraryExamples, run, type ConsumerProject } from './harness/consumer-project';
import { inlineSourceMap, waitFor } from './harness/inspect';
import { simulatorInstance, writeInstancesFile } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { temporaryDirectory, testClient, testServer, uniqueTaskQueue } from './harness/temporal';

/** A process of the consumer project (its compiled worker, or `npx duo-j1`), with its output. */
interface ConsumerProcess {
  output: string[];
  stop(): Promise<number | null>;
}

/**
 * Starts `command` in the consumer project against the test server and a Duo simulator's tenant,
 * with a fresh data folder, and waits until `ready` shows in its output.
 */
async function startInConsumer(
  project: ConsumerProject,
  command: string[],
  ready: RegExp,
): Promise<ConsumerProcess & { instanceId: string; usersInTenant: number; secret: string }> {
  const duo = await startDuoSimulator({ users: 40, seed: 81 });
  stopAtEnd(() => duo.close());
  const instance = simulatorInstance(duo);
  const { file, env } = writeInstancesFile([instance]);
  const { address, namespace } = await testServer();
  const [executable, ...args] = command;
  const child = spawn(executable!, args, {
    cwd: project.dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      DUO_J1_INSTANCES: file,
      DUO_J1_DATA_DIR: temporaryDirectory('duo-j1-consumer-data-'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, signalled whole as a terminal does: `npx` does not pass signals on.
    detached: true,
  });
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr])
    createInterface({ input: stream }).on('line', (l) => output.push(l));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stop = async () => {
    signal('SIGTERM');
    return closed;
  };
  stopAtEnd(() => signal('SIGKILL'));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited early:\n${output.join('\n')}`);
      return output.some((line) => ready.test(line));
    },
    `${command.join(' ')} to start`,
  );
  return { output, stop, instanceId: instance.id, usersInTenant: duo.tenant.users.length, secret: duo.secretKey };
}

async function ingest(
  taskQueue: string,
  instanceId: string,
): Promise<{ result: DuoIngestionResult; handle: WorkflowHandle }> {
  const client = await testClient();
  const handle = await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `consumer-${uniqueTaskQueue()}`,
    // A host queue nobody polls fails the run in seconds instead of minutes.
    args: [{ instanceId, tuning: { hostScheduleToStartSeconds: 10, maxPipelineRestarts: 0 } }],
  });
  return { result: (await handle.result()) as DuoIngestionResult, handle };
}

describe('the installed package', function () {
  let project: ConsumerProject;

  before(async function () {
    // Packs (building first when the sources changed) and installs once for every test here.
    this.timeout(600_000);
    project = await consumerProject();
    console.log(
      `      (tarball ${(project.tarballBytes / 1024).toFixed(0)} KiB, ${project.packedFiles.length} files; ` +
        `consumer install ${project.installSeconds.toFixed(1)} s)`,
    );
  });

  it('publishes (dry run), shipping the compiled package and no tests, CI, lint or build configuration', async () => {
    const files = project.packedFiles;
    for (const expected of [
      'package.json',
      'README.md',
      'bin/duo-j1.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'dist/workflows/index.js',
      'dist/workflow-bundle.js',
      'dist/workflow-bundle-traced.js',
      'dist/output/picture/viewer.js',
    ]) {
      assert.ok(files.includes(expected), `the tarball has ${expected}`);
    }
    const unwanted = files.filter((file) =>
      /^(src|test|scripts|\.ci)\/|^(tsconfig[\w.]*\.json|eslint\.config\.mjs|\.prettier\w*|\.mocharc\.json|package-lock\.json)$|\.test\./.test(
        file,
      ),
    );
    assert.deepEqual(unwanted, []);
    const { stdout, stderr } = await run(
      'npm',
      ['publish', '--dry-run', '--json', '--offline'],
      path.resolve(__dirname, '..'),
    );
    assert.match(stdout + stderr, /"name": "duo-j1"/);
  });

  it('type-checks the README’s library examples with strict settings, without a single error', async () => {
    const examples = readmeLibraryExamples();
    assert.deepEqual([...examples.keys()].sort(), ['team-worker.ts', 'worker.ts', 'workflows.ts']);
    const tsc = path.join(project.dir, 'node_modules', '.bin', 'tsc');
    // Emits dist/, which the tests below run; then the same with Node 16 resolution (package exports).
    await run(tsc, ['-p', 'tsconfig.json'], project.dir);
    await run(tsc, ['-p', 'tsconfig.node16.json'], project.dir);
  });

  it('is required by plain Node.js, without a TypeScript loader', async () => {
    assert.ok(!existsSync(path.join(project.dir, 'node_modules', 'tsx')), 'tsx is not installed with duo-j1');
    const { stdout } = await run(
      process.execPath,
      [
        '-e',
        `const duoJ1 = require('duo-j1');
         const workflows = require('duo-j1/workflows');
         Promise.all([duoJ1.prebuiltWorkflowBundle(), duoJ1.prebuiltWorkflowBundle(undefined, { traced: true })]).then(([bundle, traced]) => console.log(JSON.stringify({
           createDuoJ1Workers: typeof duoJ1.createDuoJ1Workers,
           workflowsPath: duoJ1.workflowsPath,
           workflows: Object.keys(workflows).sort(),
           bundle,
           traced,
         })));`,
      ],
      project.dir,
    );
    const loaded = JSON.parse(stdout) as {
      createDuoJ1Workers: string;
      workflowsPath: string;
      workflows: string[];
      bundle: string;
      traced: string;
    };
    const installed = path.join(project.dir, 'node_modules', 'duo-j1', 'dist');
    assert.equal(loaded.createDuoJ1Workers, 'function');
    assert.equal(loaded.workflowsPath, path.join(installed, 'workflows', 'index.js'));
    assert.deepEqual(loaded.workflows, ['duoIngestion', 'duoInstanceCoordinator', 'duoLogTail']);
    assert.equal(loaded.bundle, path.join(installed, 'workflow-bundle.js'), 'the shipped bundle, not a new one');
    assert.equal(loaded.traced, path.join(installed, 'workflow-bundle-traced.js'), 'the shipped traced bundle');
    // Their source maps name each file by its place in the package, not where the build had it.
    for (const bundle of [loaded.bundle, loaded.traced]) {
      const map = inlineSourceMap(readFileSync(bundle, 'utf8'));
      assert.ok(map, `${bundle} carries its source map`);
      assert.ok(map.sources.includes('src/workflows/duo-ingestion.ts'), map.sources.join(', '));
      const builders = map.sources.filter(
        (source) => source.includes(path.resolve(__dirname, '..')) || /(^|\|)\//.test(source),
      );
      assert.deepEqual(builders, [], 'no absolute path');
    }
  });

  it('runs an ingestion with the README’s one-call worker and the bundle shipped in the package', async () => {
    const worker = await startInConsumer(project, [process.execPath, 'dist/worker.js'], /state: 'RUNNING'/);
    const { result, handle } = await ingest('security-jobs', worker.instanceId);
    assert.equal(result.outcome, 'success');
    assert.equal(result.entities.duo_user, worker.usersInTenant);
    assert.match((await handle.query(progressQuery)).hostTaskQueue ?? '', /^security-jobs-host-/);
    assert.equal(await worker.stop(), 0, 'SIGTERM ends it');
  });

  it('runs duo-j1’s workflows bundled with a team’s own workflow, interceptor and same-named activity', async () => {
    const worker = await startInConsumer(project, [process.execPath, 'dist/team-worker.js'], /state: 'RUNNING'/);
    const client = await testClient();
    // The team's workflow gets the team's `fetchResource`...
    const chore = await client.workflow.execute('platformChore', {
      taskQueue: 'platform-jobs',
      workflowId: `chore-${uniqueTaskQueue()}`,
      args: ['users'],
    });
    assert.equal(chore, 'platform fetched users');
    // ...and duo-j1's run gets duo-j1's, on the team's queue, through the team's interceptor.
    const { result, handle } = await ingest('platform-jobs', worker.instanceId);
    assert.equal(result.outcome, 'success');
    assert.equal(result.resources.users.records, worker.usersInTenant);
    assert.equal(result.pipelineAttempts, 1);
    assert.match((await handle.query(progressQuery)).hostTaskQueue ?? '', /^platform-jobs-host-/);
    assert.equal((await handle.describe()).memo?.interceptedBy, 'platform');
    assert.equal(await worker.stop(), 0);
  });

  it('runs an ingestion with `npx duo-j1 worker` from the installed package', async () => {
    const taskQueue = uniqueTaskQueue('installed');
    const worker = await startInConsumer(
      project,
      ['npx', 'duo-j1', 'worker', '--task-queue', taskQueue, '--log-format', 'json'],
      /"Worker started"/,
    );
    const { result } = await ingest(taskQueue, worker.instanceId);
    assert.equal(result.outcome, 'success');
    assert.equal(result.entities.duo_user, worker.usersInTenant);
    // npx itself ends by the signal; the worker it started drains and says so.
    await worker.stop();
    assert.ok(
      worker.output.some((line) => line.includes('"Worker stopped"')),
      worker.output.slice(-3).join('\n'),
    );
    for (const line of worker.output) assert.ok(!line.includes(worker.secret), 'no secret in the logs');
  });
});
