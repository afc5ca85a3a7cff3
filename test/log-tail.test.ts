import assert from 'node:assert/strict';
import { DUO_LOG_ENDPOINTS } from '../src/resources/table';
import type { Entity } from '../src/graph/types';
import { graphObjectSchemaError, validateEntity } from '../src/graph/validation';
import { applyLogTails } from '../src/logs/tails';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo/server';
import {
  WORKFLOW_TYPE,
  ingestionWorkflowId,
  type DuoIngestionResult,
  type LocalDeliveryReport,
} from '../src/workflows/contract';
import { logTailWorkflowId } from '../src/workflows/log-tail-contract';
import { historyFigures, waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { caughtUpTail, expectedAggregates, localGraphObjects } from './harness/logs';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig } from './harness/temporal';
import { keepHistory } from './harness/histories';

const LOG_PATH = DUO_LOG_ENDPOINTS.authenticationLog.path;
/** Fast enough for a test: Duo's delay of a second, the tail one second behind it. */
const TAIL_TUNING = { lagSeconds: 2, pollSeconds: 1, pageSize: 200 };

async function logSimulator(seed: number): Promise<DuoSimulator> {
  const duo = await startDuoSimulator({
    users: 120,
    seed,
    authenticationLog: { eventsPerMinute: 30, historyMs: 2 * 3600_000, delayMs: 1000 },
  });
  stopAtEnd(() => duo.close());
  return duo;
}

describe('Duo logs tailed into graph facts', function () {
  this.timeout(240_000);

  it('tails the authentication log exactly once into aggregates, and the next run adds them to the graph', async () => {
    const duo = await logSimulator(41);
    const instance = simulatorInstance(duo, { logs: { enabled: true, backfillDays: 1, requestsPerMinute: 6000 } });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();

    const started = await applyLogTails(client, config, { taskQueue: config.taskQueue, tuning: TAIL_TUNING });
    assert.deepEqual(
      started.map((change) => change.action),
      ['started'],
    );
    // Applying again changes nothing: the running tail keeps its cursor.
    const again = await applyLogTails(client, config, { taskQueue: config.taskQueue, tuning: TAIL_TUNING });
    assert.deepEqual(
      again.map((change) => change.action),
      ['running'],
    );

    const { state, file } = await caughtUpTail(client, config.dataDir, instance.id);
    const expected = expectedAggregates(duo, file.from, state.cursor!.mintime);
    assert.ok(expected.events > 3000, `a backfill of two hours of events (${expected.events})`);
    assert.deepEqual(file.authentication, expected);
    assert.equal(state.events, expected.events);

    // Neither the tail's history nor its file holds a secret.
    const history = await historyFigures(client.workflow.getHandle(logTailWorkflowId(instance.id)));
    assert.ok(!history.json.includes(duo.secretKey));

    const result: DuoIngestionResult = await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: ingestionWorkflowId(instance.id),
      args: [{ instanceId: instance.id }],
    });
    const graph = await localGraphObjects((result.delivery as LocalDeliveryReport).outputDir);
    const aggregates = (await caughtUpTail(client, config.dataDir, instance.id)).file.authentication;
    const usage = graph.get('duo_user_uses_integration') ?? [];
    const pairs = Object.entries(aggregates.usage).flatMap(([userId, byIntegration]) =>
      Object.keys(byIntegration).map((integrationKey) => `duo-user:${userId}|uses|${integrationKey}`),
    );
    // Every pair the log shows (the build may have read a file a page or two older: never more).
    assert.ok(usage.length > 0 && usage.length <= pairs.length, `${usage.length} usage edges of ${pairs.length}`);
    for (const edge of usage) {
      assert.ok(pairs.includes(edge._key as string), `${edge._key as string} comes from the log`);
      assert.equal(typeof edge.lastAuthenticatedOn, 'number');
      assert.equal(typeof edge.successes30d, 'number');
      assert.equal(graphObjectSchemaError(edge), undefined);
    }
    const users = graph.get('duo_user')!;
    const withFacts = users.filter((user) => user.lastFactor !== undefined);
    assert.ok(withFacts.length > 0);
    // One user in ten of the simulator's tenant only ever authenticates by SMS.
    assert.ok(withFacts.some((user) => user.onlyWeakFactors === true && user.lastFactor === 'sms_passcode'));
    assert.ok(withFacts.some((user) => user.onlyWeakFactors === false));
    const integrations = graph.get('duo_integration')!;
    assert.ok(integrations.some((integration) => (integration.activeUsers30d as number) > 0));
    // The facts are valid in the data model: nothing of them is removed by its schema.
    for (const entity of [...withFacts, ...integrations]) {
      const validation = validateEntity(entity as unknown as Entity);
      assert.ok(validation.valid && validation.removedProperties.length === 0, JSON.stringify(validation));
    }
    assert.deepEqual(result.partialTypes, []);

    // Logs switched off: the tail stops and removes its aggregates.
    const off = await applyLogTails(
      client,
      { ...config, instances: [{ ...instance, logs: undefined }] },
      { taskQueue: config.taskQueue },
    );
    assert.deepEqual(
      off.map((change) => change.action),
      ['stopped'],
    );
    const tail = client.workflow.getHandle(logTailWorkflowId(instance.id));
    await tail.result();
    await keepHistory(
      'log-tail',
      'An instance’s log tail: backfills, catches up, waits for more, and stops when logs are switched off',
      tail,
    );
  });

  it('with logs off, reads no log endpoint and builds the graph it always did', async () => {
    const duo = await logSimulator(42);
    const instance = simulatorInstance(duo);
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();

    const changes = await applyLogTails(client, config, { taskQueue: config.taskQueue });
    assert.deepEqual(
      changes.map((change) => change.action),
      ['off'],
    );
    const result: DuoIngestionResult = await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: ingestionWorkflowId(instance.id),
      args: [{ instanceId: instance.id }],
    });
    await waitFor(() => duo.requestLog.length > 0, 'requests');
    assert.equal(duo.requestLog.filter((entry) => entry.path === LOG_PATH).length, 0);
    const graph = await localGraphObjects((result.delivery as LocalDeliveryReport).outputDir);
    assert.equal(graph.get('duo_user_uses_integration'), undefined);
    for (const type of ['duo_user', 'duo_integration']) {
      for (const entity of graph.get(type) ?? []) {
        assert.equal(entity.lastAuthenticatedOn, undefined);
        assert.equal(entity.lastFactor, undefined);
      }
    }
    assert.equal(result.relationships.duo_user_uses_integration, 0);
    assert.deepEqual(result.partialTypes, []);
  });

  it('keeps the log budget through a 429 storm on the log endpoint, while ingestion runs at its own pace', async () => {
    const duo = await logSimulator(44);
    // A third of the log requests answered 429, none of the others.
    duo.setFaults({ tooManyRequestsRate: 0.35, faultPaths: [LOG_PATH] });
    const logRequestsPerMinute = 120;
    const instance = simulatorInstance(duo, {
      logs: { enabled: true, backfillDays: 1, requestsPerMinute: logRequestsPerMinute },
    });
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();

    await applyLogTails(client, config, { taskQueue: config.taskQueue, tuning: { ...TAIL_TUNING, pageSize: 500 } });
    await waitFor(() => duo.requestLog.some((entry) => entry.path === LOG_PATH), 'the tail to read');
    const result: DuoIngestionResult = await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: ingestionWorkflowId(instance.id),
      args: [{ instanceId: instance.id }],
    });
    const { state, file } = await caughtUpTail(client, config.dataDir, instance.id, 180_000);
    assert.deepEqual(file.authentication, expectedAggregates(duo, file.from, state.cursor!.mintime));

    const logRequests = duo.requestLog.filter((entry) => entry.path === LOG_PATH);
    assert.ok(
      logRequests.filter((entry) => entry.status === 429).length >= 2,
      `the storm hit the tail: ${logRequests.map((entry) => entry.status).join(' ')}`,
    );
    // Every log request, the retries of a 429 included, waited for its slot in the log budget.
    const intervalMs = 60_000 / logRequestsPerMinute;
    for (let i = 1; i < logRequests.length; i++) {
      const gap = logRequests[i]!.at - logRequests[i - 1]!.at;
      assert.ok(gap >= intervalMs - 50, `log requests ${i - 1} and ${i} are ${gap} ms apart`);
    }
    // The ingestion's requests drew on their own budget: none refused, and far more of them than
    // the log budget would have allowed in the time the run took.
    const ingestionRequests = duo.requestLog.filter(
      (entry) => entry.path !== LOG_PATH && entry.at <= Date.now() && entry.status !== 0,
    );
    // The run may have come before the tail read its whole backfill window: then, and only then, the
    // usage edges are partial (JupiterOne keeps those it has).
    for (const partial of result.partialTypes) {
      assert.deepEqual(partial, {
        type: 'duo_user_uses_integration',
        reason: 'the log tail is still reading its backfill window',
      });
    }
    assert.deepEqual(
      ingestionRequests.filter((entry) => entry.status === 429),
      [],
    );
    const spanMs = ingestionRequests.at(-1)!.at - ingestionRequests[0]!.at;
    assert.ok(
      ingestionRequests.length >= 8 && spanMs < (ingestionRequests.length - 1) * intervalMs,
      `${ingestionRequests.length} ingestion requests in ${spanMs} ms`,
    );
  });
});
