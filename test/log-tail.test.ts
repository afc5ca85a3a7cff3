import assert from 'node:assert/strict';
import { DUO_LOG_ENDPOINTS } from '../src/resources/table';
import { ENTITY_KINDS, LOG_ENTITY_KINDS, LOG_RELATIONSHIP_KINDS, RELATIONSHIP_KINDS } from '../src/graph/data-model';
import type { Entity } from '../src/graph/types';
import { graphObjectSchemaError, validateEntity } from '../src/graph/validation';
import { applyLogTails } from '../src/logs/tails';
import { startDuoSimulator, type DuoSimulator, type DuoSimulatorOptions } from '../src/simulators/duo/server';
import { emptyTrustMonitorAggregates, foldTrustMonitorEvents } from '../src/logs/trust-monitor';
import {
  WORKFLOW_TYPE,
  ingestionWorkflowId,
  type DuoIngestionResult,
  type LocalDeliveryReport,
} from '../src/workflows/contract';
import { logTailWorkflowId } from '../src/workflows/log-tail-contract';
import { historyFigures, waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import {
  caughtUpTail,
  endLogTails,
  expectedAdministration,
  expectedAggregates,
  localGraphObjects,
} from './harness/logs';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig } from './harness/temporal';
import { keepHistory } from './harness/histories';

const LOG_PATH = DUO_LOG_ENDPOINTS.authenticationLog.path;
const LOG_PATHS: string[] = Object.values(DUO_LOG_ENDPOINTS).map((endpoint) => endpoint.path);
/** The types made only from the logs: partial while the tail reads its backfill. */
const LOG_MADE_TYPES: string[] = [
  ...LOG_ENTITY_KINDS.map((id) => ENTITY_KINDS[id]._type),
  ...LOG_RELATIONSHIP_KINDS.map((id) => RELATIONSHIP_KINDS[id]._type),
];
/** Fast enough for a test: Duo's delay of a second, the tail one second behind it. */
const TAIL_TUNING = { lagSeconds: 2, pollSeconds: 1, pageSize: 200 };

async function logSimulator(seed: number, options: DuoSimulatorOptions = {}): Promise<DuoSimulator> {
  const duo = await startDuoSimulator({
    users: 120,
    seed,
    authenticationLog: { eventsPerMinute: 30, historyMs: 2 * 3600_000, delayMs: 1000 },
    // Several actions a second, and answers of 100 events: the administrator log's pages end in
    // the middle of a second, which the tail must read on from without an event twice or missed.
    administrationLog: { eventsPerMinute: 90, historyMs: 30 * 60_000, delayMs: 1000, pageSize: 100 },
    // More than one page of 200.
    trustMonitor: { eventsPerMinute: 2, historyMs: 2 * 3600_000, delayMs: 1000 },
    ...options,
  });
  stopAtEnd(() => duo.close());
  return duo;
}

describe('Duo logs tailed into graph facts', function () {
  this.timeout(240_000);
  /** The instances whose tails the current test may have started: ended after it, whatever its outcome. */
  let tailed: string[] = [];
  afterEach(async () => {
    await endLogTails(await testClient(), tailed);
    tailed = [];
  });

  it('tails the authentication log exactly once into aggregates, and the next run adds them to the graph', async () => {
    const duo = await logSimulator(41);
    const instance = simulatorInstance(duo, { logs: { enabled: true, backfillDays: 1, requestsPerMinute: 6000 } });
    tailed.push(instance.id);
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

    // The devices users authenticated with: `lastUsedOn` on the inventory's edges, and edges of
    // their own for the endpoints the log shows a user on that the inventory gives to another.
    const successes = new Set(
      [...duo.authenticationLog.eventsBetween(file.from, Date.now())]
        .filter((event) => event.result === 'success')
        .flatMap((event) => [
          `duo-user:${event.user!.key}|uses|${event.auth_device?.key}@${Date.parse(event.isotimestamp!)}`,
          `duo-user:${event.user!.key}|uses|duo-endpoint:${event.access_device?.epkey}@${Date.parse(event.isotimestamp!)}`,
        ]),
    );
    const userKeyByEmail = new Map(
      duo.tenant.users.map((user) => [user.email!.toLowerCase(), `duo-user:${user.user_id}`]),
    );
    const inventoryEndpointEdges = new Set(
      duo.tenant.endpoints
        .filter((endpoint) => endpoint.email && userKeyByEmail.has(endpoint.email.toLowerCase()))
        .map((endpoint) => `${userKeyByEmail.get(endpoint.email!.toLowerCase())}|uses|duo-endpoint:${endpoint.epkey}`),
    );
    const endpointKeys = new Set(duo.tenant.endpoints.map((endpoint) => `duo-endpoint:${endpoint.epkey}`));
    for (const type of ['duo_user_uses_phone', 'duo_user_uses_endpoint']) {
      const edges = graph.get(type) ?? [];
      const used = edges.filter((edge) => edge.lastUsedOn !== undefined);
      assert.ok(used.length > 0, `${type}: ${used.length} of ${edges.length} edges with lastUsedOn`);
      for (const edge of used) {
        // Each `lastUsedOn` is the time of a successful authentication of that user with that device.
        assert.ok(successes.has(`${edge._key as string}@${edge.lastUsedOn as number}`), JSON.stringify(edge));
        assert.equal(graphObjectSchemaError(edge), undefined);
      }
      assert.equal(new Set(edges.map((edge) => edge._key)).size, edges.length, `${type}: no edge twice`);
    }
    const endpointEdges = graph.get('duo_user_uses_endpoint')!;
    const fromLogOnly = endpointEdges.filter((edge) => !inventoryEndpointEdges.has(edge._key as string));
    assert.ok(fromLogOnly.length > 0, 'shared machines: edges the log adds to the inventory');
    for (const edge of fromLogOnly) assert.equal(typeof edge.lastUsedOn, 'number');
    // Only to endpoints in the graph: the log's unlisted endpoints make no edge.
    for (const edge of endpointEdges) assert.ok(endpointKeys.has(edge._toEntityKey as string), edge._key as string);
    assert.ok(
      [...successes].some((use) => use.includes('|uses|duo-endpoint:EPUNLISTED')),
      'the log names endpoints the inventory does not list',
    );

    // The administrators' logs: each read exactly once from where the tail started them.
    const section = file.administration!;
    assert.deepEqual(section.backfilled, { administrator: true, activity: true, trustMonitor: true });
    assert.deepEqual(section.aggregates, expectedAdministration(duo, section));
    assert.ok(section.aggregates.administratorEvents > 100, `${section.aggregates.administratorEvents} events`);
    // Who created which integration, who viewed whose secret key, who switched whom to bypass:
    // each edge an action of the simulator's stream.
    const actions = new Set(
      [...duo.administrationLog.actionsBetween(section.from.administrator!, Date.now())].flatMap((action) =>
        // The activity log's time in milliseconds, or the administrator log's in whole seconds.
        [action.time, Math.floor(action.time / 1000) * 1000].map(
          (time) => `${action.action} ${action.admin.id} ${action.target?.key} ${time}`,
        ),
      ),
    );
    const adminEdges = [
      { type: 'duo_admin_created_integration', action: 'integration_create', time: 'createdOn' },
      { type: 'duo_admin_knows_integration', action: 'integration_skey_view', time: 'secretKeyViewedOn' },
      { type: 'duo_admin_allows_user', action: 'user_update', time: 'bypassEnabledOn' },
    ];
    for (const { type, action, time } of adminEdges) {
      const edges = graph.get(type) ?? [];
      assert.ok(edges.length > 0, type);
      for (const edge of edges) {
        const admin = (edge._fromEntityKey as string).replace('duo-admin:', '');
        const target = (edge._toEntityKey as string).replace('duo-user:', '');
        assert.ok(actions.has(`${action} ${admin} ${target} ${edge[time] as number}`), JSON.stringify(edge));
        assert.equal(graphObjectSchemaError(edge), undefined);
      }
    }
    const admins = graph.get('duo_admin')!;
    const active = admins.filter((admin) => admin.lastActionOn !== undefined);
    assert.ok(active.length > 0);
    for (const admin of active) {
      assert.equal(typeof admin.actions30d, 'number');
      assert.equal(typeof admin.lastAction, 'string');
      const validation = validateEntity(admin as unknown as Entity);
      assert.ok(validation.valid && validation.removedProperties.length === 0, JSON.stringify(validation));
    }

    // Trust Monitor's events, each once, as findings about the users, administrators and devices
    // they concern.
    assert.deepEqual(
      section.trustMonitor,
      foldTrustMonitorEvents(emptyTrustMonitorAggregates(), [
        ...duo.trustMonitor.eventsBetween(section.from.trustMonitor!, section.cursors.trustMonitor!.mintime - 1),
      ]),
    );
    const findings = graph.get('duo_trust_monitor_event') ?? [];
    assert.ok(findings.length > 200, `${findings.length} findings`);
    assert.ok(findings.some((finding) => finding.open === true) && findings.some((finding) => finding.open === false));
    for (const finding of findings) {
      const validation = validateEntity(finding as unknown as Entity);
      assert.ok(validation.valid && validation.removedProperties.length === 0, JSON.stringify(validation));
    }
    const findingKeys = new Set(findings.map((finding) => finding._key));
    for (const type of [
      'duo_user_has_trust_monitor_event',
      'duo_admin_has_trust_monitor_event',
      'duo_phone_has_trust_monitor_event',
      'duo_endpoint_has_trust_monitor_event',
    ]) {
      const edges = graph.get(type) ?? [];
      assert.ok(edges.length > 0, type);
      for (const edge of edges) assert.ok(findingKeys.has(edge._toEntityKey as string), edge._key as string);
    }

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
      'log-tail-administration-logs',
      'An instance’s log tail reading the administrators’ logs and Trust Monitor besides authentications: ' +
        'backfills, catches up, waits for more, and stops when logs are switched off',
      tail,
    );
  });

  it("on an edition without Trust Monitor, tails the other logs and reports Trust Monitor's types partial, naming the edition", async () => {
    const duo = await logSimulator(45, { trustMonitor: { available: false } });
    const instance = simulatorInstance(duo, { logs: { enabled: true, backfillDays: 1, requestsPerMinute: 6000 } });
    tailed.push(instance.id);
    const config = testConfig([instance]);
    await startTestWorkers(config);
    const client = await testClient();
    await applyLogTails(client, config, { taskQueue: config.taskQueue, tuning: TAIL_TUNING });
    const { state, file } = await caughtUpTail(client, config.dataDir, instance.id);
    assert.match(state.streams!.trustMonitor!.refused!, /403.*Advantage and Premier/);
    assert.ok(file.administration!.backfilled.administrator && file.authentication.events > 0);

    const result: DuoIngestionResult = await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: ingestionWorkflowId(instance.id),
      args: [{ instanceId: instance.id }],
    });
    assert.deepEqual(result.partialTypes.map((partial) => partial.type).sort(), [
      'duo_admin_has_trust_monitor_event',
      'duo_endpoint_has_trust_monitor_event',
      'duo_phone_has_trust_monitor_event',
      'duo_trust_monitor_event',
      'duo_user_has_trust_monitor_event',
    ]);
    for (const partial of result.partialTypes) assert.match(partial.reason, /Trust Monitor comes with Duo's Advantage/);
    const graph = await localGraphObjects((result.delivery as LocalDeliveryReport).outputDir);
    assert.ok((graph.get('duo_admin_created_integration') ?? []).length > 0, 'the other logs are read');
    assert.equal(graph.get('duo_trust_monitor_event'), undefined);
    // The tail goes on (until it is stopped, here, so that it does not poll past the test).
    const tail = client.workflow.getHandle(logTailWorkflowId(instance.id));
    assert.equal((await tail.describe()).status.name, 'RUNNING');
    await applyLogTails(
      client,
      { ...config, instances: [{ ...instance, logs: undefined }] },
      { taskQueue: config.taskQueue },
    );
    await tail.result();
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
    assert.equal(duo.requestLog.filter((entry) => LOG_PATHS.includes(entry.path)).length, 0);
    const graph = await localGraphObjects((result.delivery as LocalDeliveryReport).outputDir);
    assert.equal(graph.get('duo_user_uses_integration'), undefined);
    for (const type of ['duo_user', 'duo_integration']) {
      for (const entity of graph.get(type) ?? []) {
        assert.equal(entity.lastAuthenticatedOn, undefined);
        assert.equal(entity.lastFactor, undefined);
      }
    }
    for (const type of ['duo_user_uses_phone', 'duo_user_uses_endpoint']) {
      assert.ok((graph.get(type) ?? []).length > 0, type);
      for (const edge of graph.get(type)!) assert.equal(edge.lastUsedOn, undefined);
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
    tailed.push(instance.id);
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
      (entry) => !LOG_PATHS.includes(entry.path) && entry.at <= Date.now() && entry.status !== 0,
    );
    // The run may have come before the tail read its whole backfill window: then, and only then, the
    // usage edges are partial (JupiterOne keeps those it has).
    for (const partial of result.partialTypes) {
      assert.deepEqual(partial, {
        type: partial.type,
        reason: 'the log tail is still reading its backfill window',
      });
      assert.ok(LOG_MADE_TYPES.includes(partial.type), partial.type);
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
