import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { listGraphFiles, readGraphFile } from '../src/output/graph-files';
import { J1_FOLDER } from '../src/output/paths';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import { stagingDirectory } from '../src/worker/runtime';
import { RESOURCES, WORKFLOW_TYPE, type DuoIngestionResult } from '../src/workflows/contract';
import { expectedGraph } from './harness/expected-graph';
import { activitiesScheduled, waitFor } from './harness/inspect';
import { simulatorInstance } from './harness/instances';
import { stopAtEnd } from './harness/root-hooks';
import { startTestWorkers, testClient, testConfig } from './harness/temporal';

describe('duoIngestion on a real Temporal server', function () {
  it('fetches every resource of a multi-page tenant in parallel and delivers it locally', async () => {
    const duo = await startDuoSimulator({ users: 700, seed: 7 });
    stopAtEnd(() => duo.close());
    const config = testConfig([simulatorInstance(duo)]);
    const runtime = await startTestWorkers(config);
    const client = await testClient();

    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `fetch-${config.taskQueue}`,
      args: [{ instanceId: config.instances[0].id }],
    })) as DuoIngestionResult;

    for (const resource of RESOURCES) assert.equal(result.resources[resource].status, 'complete', resource);
    assert.equal(result.resources.users.records, duo.tenant.users.length);
    assert.equal(result.resources.users.pages, Math.ceil(700 / 300), 'users asked at the maximum page size of 300');
    assert.equal(result.resources.phones.records, duo.tenant.phones.length);
    assert.equal(result.entities.duo_user, duo.tenant.users.length);
    assert.equal(result.delivery.target, 'local');
    assert.ok(result.delivery.target === 'local' && readFileSync(result.delivery.graphHtml, 'utf8').includes('<html'));

    // Each page requested once: no offset of the users endpoint was fetched twice.
    const userOffsets = duo.requestLog
      .filter((r) => r.path === '/admin/v1/users' && r.limit === 300)
      .map((r) => r.offset);
    assert.deepEqual(userOffsets, [0, 300, 600]);

    // The run cleaned up its staging.
    const staging = await LocalDirectoryStagingStore.open(stagingDirectory(config));
    assert.deepEqual(await staging.listRuns(), []);
    assert.equal(runtime.staging.id, staging.id);
  });

  it('converts the pages of large lists as they are fetched, builds the graph as they are staged, and delivers exactly the graph of their records', async () => {
    const duo = await startDuoSimulator({ users: 2_000, seed: 8 });
    stopAtEnd(() => duo.close());
    const instance = simulatorInstance(duo);
    const config = testConfig([instance]);
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    await startTestWorkers(config, {
      env: { ...process.env, DUO_J1_CONVERSION_THREAD: 'on' },
      log: (_level, message, fields) => logged.push({ message, fields }),
    });
    const client = await testClient();
    const result = (await client.workflow.execute(WORKFLOW_TYPE, {
      taskQueue: config.taskQueue,
      workflowId: `fetch-large-${config.taskQueue}`,
      args: [{ instanceId: instance.id }],
    })) as DuoIngestionResult;
    assert.equal(result.outcome, 'success');
    assert.equal(result.resources.users.pages, Math.ceil(duo.tenant.users.length / 300));

    assert.equal(result.delivery.target, 'local');
    const delivered = new Map<string, unknown>();
    if (result.delivery.target === 'local') {
      for (const file of await listGraphFiles(path.join(result.delivery.outputDir, J1_FOLDER))) {
        for (const graphObject of await readGraphFile(file.path)) delivered.set(graphObject._key, graphObject);
      }
    }
    const expected = await expectedGraph(duo.tenant, instance);
    assert.equal(delivered.size, expected.entities.size + expected.relationships.size);
    for (const [key, graphObject] of [...expected.entities, ...expected.relationships]) {
      assert.deepEqual(delivered.get(key), graphObject, key);
    }
    // The graph was built as the fetch staged it, and that build is the one delivered: it was
    // scheduled with the fetches, before any of them ended, and no build followed the fetch.
    const events = (await client.workflow.getHandle(`fetch-large-${config.taskQueue}`).fetchHistory()).events ?? [];
    const scheduled = (name: string) => activitiesScheduled(events, name);
    const [following] = scheduled('buildGraphAsFetched');
    assert.ok(following, 'the build was scheduled beside the fetches');
    const fetchIds = new Set(scheduled('fetchResource').map((event) => String(event.eventId)));
    const firstFetchEnded = events.find((event) =>
      fetchIds.has(String(event.activityTaskCompletedEventAttributes?.scheduledEventId)),
    );
    assert.ok(Number(following.eventId) < Number(firstFetchEnded?.eventId), 'scheduled before any fetch ended');
    assert.ok(
      events.some(
        (event) => String(event.activityTaskCompletedEventAttributes?.scheduledEventId) === String(following.eventId),
      ),
      'the build as fetched completed',
    );
    assert.deepEqual(scheduled('buildGraph'), [], 'no build after the fetch');
    assert.ok(
      result.delivery.target === 'local' && result.delivery.writtenAsBuilt,
      'the output was written as the graph was built, and the delivery published that version',
    );

    // The worker's conversion thread took pages, and the fetch's thread the rest, to that graph.
    await waitFor(() => logged.some((line) => line.message === 'The conversion thread stopped, idle'), 'the idle stop');
    const counts = logged.find((line) => line.message === 'The conversion thread stopped, idle')!.fields!;
    assert.ok((counts.onThread as number) > 0, `pages converted on the thread: ${JSON.stringify(counts)}`);
    assert.equal(counts.threadFailures, 0);
  });
});
