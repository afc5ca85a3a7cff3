import assert from 'node:assert/strict';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { stagingDirectory } from '../src/worker/runtime';
import { WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { ingestionHistory, keepHistory } from './harness/histories';
import { filesContaining, historyFigures, waitFor } from './harness/inspect';
import { simulatorInstance, writeInstancesFile } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { spawnWorkerProcess, startTestWorkers, testClient, testConfig, uniqueTaskQueue } from './harness/temporal';

/** Every secret a tenant's run could leak: the API secret key and every integration's secret_key. */
function secretsOf(duo: { secretKey: string; tenant: { integrations: { secret_key?: unknown }[] } }): string[] {
  return [duo.secretKey, ...duo.tenant.integrations.map((i) => String(i.secret_key ?? '')).filter(Boolean)];
}

describe('durable fetch', function () {
  it('resumes a fetch close to where a SIGKILLed worker stopped, with the default timeouts: a few pages read again, no duplicates', async () => {
    // Slow pages, so the kill lands in the middle of the users resource.
    const duo = await startDuoSimulator({ users: 6000, seed: 11, latencyMs: 250 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const { file, env } = writeInstancesFile(config.instances);
    const first = await spawnWorkerProcess({ config, instancesFile: file, env });
    const client = await testClient();
    // No tuning: the production timeouts are what is measured.
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `crash-${config.taskQueue}`,
      args: [{ instanceId: config.instances[0].id }],
    });
    const usersServed = () =>
      duo.requestLog.filter((r) => r.path === '/admin/v1/users' && r.status === 200 && r.limit === 300);
    // Past the first heartbeat: what the issue saw was a resume from the first heartbeat's offset.
    await waitFor(() => usersServed().length >= 8, 'eight pages of users');
    await first.kill('SIGKILL');
    const killedAt = Date.now();
    const servedBeforeKill = new Set(usersServed().map((r) => r.offset));

    // What the dead worker left on disk holds no secret.
    assert.deepEqual(filesContaining(stagingDirectory(config), secretsOf(duo)), []);

    const second = await spawnWorkerProcess({ config, instancesFile: file, env });
    const result = (await handle.result()) as DuoIngestionResult;
    await second.kill('SIGTERM');

    const afterRestart = duo.requestLog.filter(
      (r) => r.at > killedAt && r.path === '/admin/v1/users' && r.limit === 300,
    );
    assert.ok(afterRestart.length > 0, 'the restarted worker fetched the rest');
    const readAgain = afterRestart.filter((r) => servedBeforeKill.has(r.offset)).map((r) => r.offset);
    assert.ok(
      readAgain.length <= 2,
      `at most the page being staged and the one read ahead are read again, not ${readAgain.join(', ')}`,
    );
    assert.ok(!afterRestart.some((r) => r.offset === 0), 'the first page was not fetched again');
    // The fetch's heartbeat timeout (10 s) plus the retry's 2 s and the new worker's start: the
    // bound is loose because the machine is shared, yet far below the 60 s timeout it replaces.
    const resumedAfterMs = afterRestart[0]!.at - killedAt;
    assert.ok(resumedAfterMs < 25_000, `resumed ${resumedAfterMs} ms after the kill`);
    const logged = second.output.find((line) => line.includes('Resuming a fetch after the parts'));
    assert.ok(logged, 'the resume is logged');

    assert.equal(result.resources.users.status, 'complete');
    assert.equal(result.resources.users.records, duo.tenant.users.length, 'staged users equal the tenant: none twice');
    assert.equal(result.entities.duo_user, duo.tenant.users.length);
    assert.equal(result.pipelineAttempts, 1, 'the same host picked its run up again');
    for (const line of [...first.output, ...second.output]) {
      for (const secret of secretsOf(duo)) assert.ok(!line.includes(secret), 'no secret in worker logs');
    }
  });

  it('starts over on another worker when the worker holding the staging never comes back', async () => {
    const duo = await startDuoSimulator({ users: 2400, seed: 12, latencyMs: 200 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const { file, env } = writeInstancesFile(config.instances);
    const lost = await spawnWorkerProcess({ config, instancesFile: file, env });
    const client = await testClient();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `lost-${config.taskQueue}`,
      args: [
        {
          instanceId: config.instances[0].id,
          tuning: { heartbeatTimeoutSeconds: 2, fetchHeartbeatTimeoutSeconds: 2, hostScheduleToStartSeconds: 4 },
        },
      ],
    });
    await waitFor(() => duo.requestLog.filter((r) => r.path === '/admin/v1/users').length >= 3, 'users pages');
    await lost.kill('SIGKILL');

    // Another worker, with its own data folder (another host): never the lost worker's queue.
    const elsewhere = testConfig(config.instances, { taskQueue: config.taskQueue });
    const other = await startTestWorkers(elsewhere);
    const result = (await handle.result()) as DuoIngestionResult;
    await keepHistory(
      ingestionHistory('pipeline-restart-lost-host'),
      'the host holding the staging is lost; the pipeline starts over elsewhere',
      handle,
    );
    assert.equal(result.pipelineAttempts, 2);
    assert.equal(result.resources.users.records, duo.tenant.users.length);
    assert.equal(result.entities.duo_user, duo.tenant.users.length);
    assert.notEqual(other.workers.hostTaskQueue, undefined);
  });

  it('fails one resource for good on a 403, naming the grant, and completes the others', async () => {
    const duo = await startDuoSimulator({ users: 50, seed: 13 });
    stopAtEnd(() => duo.close());
    duo.setFaults({
      endpointErrors: { '/admin/v1/admins': { status: 403, code: 40301, message: 'Access forbidden' } },
    });
    const config = testConfig([simulatorInstance(duo)]);
    await startTestWorkers(config);
    const client = await testClient();
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `forbidden-${config.taskQueue}`,
      args: [{ instanceId: config.instances[0].id }],
    });
    const result = (await handle.result()) as DuoIngestionResult;
    await keepHistory(
      ingestionHistory('partial-403'),
      'a run with one resource forbidden (403): delivered, partial',
      handle,
    );
    assert.equal(result.resources.admins.status, 'failed');
    assert.equal(result.resources.admins.errorType, 'DuoPermissionError');
    assert.match(result.resources.admins.reason ?? '', /Grant administrators/);
    assert.equal(duo.requestLog.filter((r) => r.path === '/admin/v1/admins').length, 1, 'a 403 is not retried');
    const completed = ['account', 'groups', 'users', 'phones', 'tokens', 'webauthn', 'integrations'] as const;
    for (const resource of [...completed, 'bypassCodes', 'endpoints', 'policies', 'adminUnits'] as const) {
      assert.equal(result.resources[resource].status, 'complete', resource);
    }
    assert.equal(result.outcome, 'partial');
    const partial = result.partialTypes.map((p) => p.type).sort();
    // The units are read, but their edges to the administrators cannot be made.
    assert.deepEqual(partial, [
      'duo_account_has_admin',
      'duo_admin',
      'duo_admin_allows_user',
      'duo_admin_assigned_mfa_device',
      'duo_admin_created_bypass_code',
      'duo_admin_created_integration',
      'duo_admin_has_trust_monitor_event',
      'duo_admin_is_employee',
      'duo_admin_is_user',
      'duo_admin_knows_integration',
      'duo_admin_unit_has_admin',
    ]);
  });

  it('fails the run at once on a wrong secret key, without retrying', async () => {
    const duo = await startDuoSimulator({ users: 10, seed: 14 });
    stopAtEnd(() => duo.close());
    const wrong = {
      ...duo,
      url: duo.url,
      apiHostname: duo.apiHostname,
      integrationKey: duo.integrationKey,
      secretKey: 'x'.repeat(40),
    };
    const config = testConfig([simulatorInstance(wrong)]);
    await startTestWorkers(config);
    const client = await testClient();
    const started = Date.now();
    const error = await client.workflow
      .execute(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `wrong-secret-${config.taskQueue}`,
        args: [{ instanceId: config.instances[0].id }],
      })
      .then(
        () => assert.fail('the run should fail'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'DuoAuthenticationError');
    assert.ok(!error.cause.message.includes('x'.repeat(40)), 'the secret is not in the failure');
    assert.equal(duo.requestLog.filter((r) => r.status === 401).length, 1, 'one request, not retried');
    assert.ok(Date.now() - started < 30_000);
  });

  for (const users of [1000, 20_000]) {
    it(`keeps the history of a ${users.toLocaleString('en-US')}-user run under 200 events and 256 KiB, with no secret`, async () => {
      const duo = await startDuoSimulator({ users, seed: 15 });
      stopAtEnd(() => duo.close());
      const config = testConfig([simulatorInstance(duo)]);
      await startTestWorkers(config);
      const client = await testClient();
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId: `history-${users}-${uniqueTaskQueue()}`,
        args: [{ instanceId: config.instances[0].id }],
      });
      const result = (await handle.result()) as DuoIngestionResult;
      assert.equal(result.entities.duo_user, users);
      const history = await historyFigures(handle);
      assert.ok(history.events < 200, `${history.events} events`);
      assert.ok(history.bytes < 256 * 1024, `${history.bytes} bytes`);
      for (const secret of secretsOf(duo)) assert.ok(!history.json.includes(secret), 'no secret in history');
      assert.deepEqual(filesContaining(path.join(config.dataDir), secretsOf(duo)), [], 'no secret in any output file');
    });
  }
});
