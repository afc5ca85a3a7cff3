/**
 * The synchronization client against the JupiterOne simulator over real HTTP: a whole job from
 * start to finished counters, DIFF semantics across jobs, partial datasets, mapped relationships to
 * employees, finalize idempotence, fatal uploads after a job ended, and abort.
 */
import assert from 'node:assert/strict';
import type { DirectRelationship, Entity, MappedRelationship, Relationship } from '../src/graph/types';
import {
  JupiterOneAuthenticationError,
  JupiterOneJobFailedError,
  JupiterOneJobNotAwaitingUploadsError,
  JupiterOneJobWaitTimeoutError,
  JupiterOneSyncClient,
  type SyncJob,
  syncJobChangeCounts,
} from '../src/jupiterone';
import { type JupiterOneSimulator, startJupiterOneSimulator } from '../src/simulators/jupiterone';
import { stopAtEnd } from './harness/root-hooks';

const ACCOUNT_KEY = 'duo-account:dead0001:acme-corp';

function account(): Entity {
  return {
    _key: ACCOUNT_KEY,
    _type: 'duo_account',
    _class: ['Account'],
    name: 'Acme Corp',
    displayName: 'Acme Corp',
    vendor: 'Cisco',
    _rawData: [{ name: 'default', rawData: { name: 'Acme Corp' } }],
  };
}

function user(id: string, email: string, realname: string): Entity {
  return {
    _key: `duo-user:${id}`,
    _type: 'duo_user',
    _class: ['User'],
    name: realname,
    displayName: realname,
    username: [email.split('@')[0]],
    email: [email],
    active: true,
    createdOn: 1_700_000_000_000,
    _rawData: [{ name: 'default', rawData: { user_id: id, email, realname } }],
  };
}

function has(from: Entity, to: Entity, type: string): DirectRelationship {
  return {
    _key: `${from._key}|has|${to._key}`,
    _type: type,
    _class: 'HAS',
    _fromEntityKey: from._key,
    _toEntityKey: to._key,
    displayName: 'HAS',
  };
}

function isEmployee(duoUser: Entity): MappedRelationship {
  const email = (duoUser.email as string[])[0];
  const [firstName, lastName] = String(duoUser.name).split(' ');
  return {
    _key: `${duoUser._key}|is|REVERSE:_type=employee:email=${email}`,
    _type: 'duo_user_is_employee',
    _class: 'IS',
    displayName: 'IS',
    _mapping: {
      relationshipDirection: 'REVERSE',
      sourceEntityKey: duoUser._key,
      targetFilterKeys: [['_type', 'email']],
      targetEntity: {
        _type: 'employee',
        _class: 'Person',
        email,
        firstName,
        lastName,
        displayName: duoUser.name as string,
      },
      skipTargetCreation: false,
    },
  };
}

/** A small Duo graph: one account, three users (two share an email), HAS relationships, mappings. */
function duoGraph(options: { withoutUser?: string } = {}): { entities: Entity[]; relationships: Relationship[] } {
  const users = [
    user('U1', 'ada@acme.example', 'Ada Lovelace'),
    user('U2', 'alan@acme.example', 'Alan Turing'),
    user('U3', 'ada@acme.example', 'Ada Byron'),
  ].filter((u) => u._key !== `duo-user:${options.withoutUser}`);
  const acct = account();
  return {
    entities: [acct, ...users],
    relationships: [...users.map((u) => has(acct, u, 'duo_account_has_user')), ...users.map(isEmployee)],
  };
}

async function* stream<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

const byKey = <T extends { _key: string }>(items: readonly T[]) =>
  [...items].sort((a, b) => a._key.localeCompare(b._key));

describe('JupiterOne synchronization client against the simulator', () => {
  let sim: JupiterOneSimulator;
  let client: JupiterOneSyncClient;

  before(async () => {
    sim = await startJupiterOneSimulator({ finalizeDelayMs: 30 });
    stopAtEnd(() => sim.close());
    client = new JupiterOneSyncClient({
      apiKey: sim.apiKey,
      account: sim.account,
      baseUrl: sim.url,
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
    });
  });

  async function synchronize(
    integrationInstanceId: string,
    graph: { entities: Entity[]; relationships: Relationship[] },
    partialTypes: string[] = [],
  ): Promise<SyncJob> {
    const job = await client.startJob({ source: 'integration-external', integrationInstanceId });
    await client.uploadEntities(job.id, stream(graph.entities));
    await client.uploadRelationships(job.id, stream(graph.relationships));
    await client.finalizeIfNeeded(job.id, { types: partialTypes });
    return client.waitForJobToFinish(job.id, { pollIntervalMs: 5, timeoutMs: 60_000 });
  }

  it('delivers a graph the simulator then holds exactly, with employees created and linked by email', async () => {
    const graph = duoGraph();
    const job = await client.startJob({ source: 'integration-external', integrationInstanceId: 'duo-first' });
    assert.equal(job.status, 'AWAITING_UPLOADS');
    const entities = await client.uploadEntities(job.id, stream(graph.entities));
    const relationships = await client.uploadRelationships(job.id, stream(graph.relationships));
    assert.equal(entities.objects, 4);
    assert.equal(relationships.objects, 6);
    assert.equal(entities.rejectedCount + relationships.rejectedCount, 0);

    const finalized = await client.finalizeIfNeeded(job.id, { types: [] });
    assert.equal(finalized.status, 'FINALIZE_PENDING');
    const finished = await client.waitForJobToFinish(job.id, { pollIntervalMs: 5 });
    assert.equal(finished.status, 'FINISHED');
    assert.deepEqual(syncJobChangeCounts(finished), {
      entities: { created: 4, updated: 0, deleted: 0 },
      relationships: { created: 3, updated: 0, deleted: 0 },
      mappedRelationships: { created: 3, updated: 0, deleted: 0 },
      uploaded: { entities: 4, relationships: 6 },
    });

    const held = sim.heldGraph({ integrationInstanceId: 'duo-first' });
    assert.deepEqual(byKey(held.entities), byKey(graph.entities));
    assert.deepEqual(
      byKey(held.relationships),
      byKey(graph.relationships.filter((r): r is DirectRelationship => !('_mapping' in r))),
    );

    const employees = sim.heldGraph({ owner: 'system-mapper' }).entities;
    assert.equal(employees.length, 2, 'U1 and U3 share an email, so they share one employee');
    for (const employee of employees) {
      assert.equal(employee._type, 'employee');
      assert.deepEqual(employee._class, ['Person']);
      assert.equal(employee._source, 'system-mapper');
    }
    const employeeFor = (email: string) => employees.find((e) => e.email === email)?._key;
    const edges = Object.fromEntries(
      held.mappedRelationships.map((m) => [m.relationship._mapping.sourceEntityKey, m.edges]),
    );
    // REVERSE: the relationship goes from the employee to the Duo user.
    assert.deepEqual(edges['duo-user:U1'], [
      {
        _fromEntityKey: employeeFor('ada@acme.example'),
        _toEntityKey: 'duo-user:U1',
        targetEntityKey: employeeFor('ada@acme.example'),
      },
    ]);
    assert.equal(edges['duo-user:U3'][0]._fromEntityKey, employeeFor('ada@acme.example'));
    assert.equal(edges['duo-user:U2'][0]._fromEntityKey, employeeFor('alan@acme.example'));
    assert.ok(
      sim.requestLog().some((entry) => entry.route === 'get-job' && entry.jobId === job.id),
      'the finished state was read by polling',
    );
  });

  it('links a Duo user of another instance to the employee that already exists for its email', async () => {
    await synchronize('duo-second', duoGraph());
    const employeesBefore = sim.heldGraph({ owner: 'system-mapper' }).entities;
    const other = user('V9', 'alan@acme.example', 'Alan Turing');
    const finished = await synchronize('duo-other-tenant', { entities: [other], relationships: [isEmployee(other)] });
    assert.equal(finished.numMappedRelationshipsCreated, 1);
    const employeesAfter = sim.heldGraph({ owner: 'system-mapper' }).entities;
    assert.deepEqual(employeesAfter.map((e) => e._key).sort(), employeesBefore.map((e) => e._key).sort());
    const [mapped] = sim.heldGraph({ integrationInstanceId: 'duo-other-tenant' }).mappedRelationships;
    assert.equal(mapped.edges[0]._fromEntityKey, employeesAfter.find((e) => e.email === 'alan@acme.example')?._key);
  });

  it('reports no change for a second job with unchanged data', async () => {
    await synchronize('duo-unchanged', duoGraph());
    const second = await synchronize('duo-unchanged', duoGraph());
    const counts = syncJobChangeCounts(second);
    assert.deepEqual(
      [counts.entities, counts.relationships, counts.mappedRelationships],
      [
        { created: 0, updated: 0, deleted: 0 },
        { created: 0, updated: 0, deleted: 0 },
        { created: 0, updated: 0, deleted: 0 },
      ],
    );
    assert.equal(sim.heldGraph({ integrationInstanceId: 'duo-unchanged' }).entities.length, 4);
  });

  it('counts an updated entity when one of its properties changed', async () => {
    await synchronize('duo-updated', duoGraph());
    const graph = duoGraph();
    graph.entities[1] = { ...graph.entities[1], active: false };
    const second = await synchronize('duo-updated', graph);
    assert.deepEqual(syncJobChangeCounts(second).entities, { created: 0, updated: 1, deleted: 0 });
  });

  it('deletes an entity left out of the next job, with its relationships', async () => {
    await synchronize('duo-diff', duoGraph());
    const second = await synchronize('duo-diff', duoGraph({ withoutUser: 'U2' }));
    const counts = syncJobChangeCounts(second);
    assert.deepEqual(counts.entities, { created: 0, updated: 0, deleted: 1 });
    assert.deepEqual(counts.relationships, { created: 0, updated: 0, deleted: 1 });
    assert.deepEqual(counts.mappedRelationships, { created: 0, updated: 0, deleted: 1 });
    const held = sim.heldGraph({ integrationInstanceId: 'duo-diff' });
    assert.ok(!held.entities.some((e) => e._key === 'duo-user:U2'));
    assert.ok(!held.relationships.some((r) => r._toEntityKey === 'duo-user:U2'));
    assert.ok(!held.mappedRelationships.some((m) => m.relationship._mapping.sourceEntityKey === 'duo-user:U2'));
  });

  it('keeps the previous objects of the types listed as partial datasets', async () => {
    await synchronize('duo-partial', duoGraph());
    const before = sim.heldGraph({ integrationInstanceId: 'duo-partial' });
    const partialTypes = ['duo_user', 'duo_account_has_user', 'duo_user_is_employee'];
    const second = await synchronize('duo-partial', duoGraph({ withoutUser: 'U2' }), partialTypes);

    const finalizeEntry = sim.requestLog().find((e) => e.route === 'finalize' && e.jobId === second.id);
    assert.deepEqual(finalizeEntry?.partialTypes, [...partialTypes].sort());
    assert.deepEqual(sim.jobs().find((j) => j.job.id === second.id)?.partialDatasets, {
      types: [...partialTypes].sort(),
    });
    const counts = syncJobChangeCounts(second);
    assert.deepEqual(
      [counts.entities.deleted, counts.relationships.deleted, counts.mappedRelationships.deleted],
      [0, 0, 0],
    );
    assert.deepEqual(sim.heldGraph({ integrationInstanceId: 'duo-partial' }), before);
  });

  it('synchronizes into an API scope when the job source is "api"', async () => {
    const job = await client.startJob({ source: 'api', scope: 'duo-j1-scope' });
    assert.equal(job.scope, 'duo-j1-scope');
    await client.uploadEntities(job.id, [account()]);
    await client.finalizeIfNeeded(job.id, { types: [] });
    await client.waitForJobToFinish(job.id, { pollIntervalMs: 5 });
    assert.deepEqual(sim.heldGraph({ scope: 'duo-j1-scope' }).entities, [account()]);
  });

  it('finalizes only once: finalizeIfNeeded returns a finished job without finalizing it again', async () => {
    const finished = await synchronize('duo-idempotent', duoGraph());
    const again = await client.finalizeIfNeeded(finished.id, { types: [] });
    assert.equal(again.status, 'FINISHED');
    const finalizeRequests = sim.requestLog().filter((e) => e.route === 'finalize' && e.jobId === finished.id);
    assert.equal(finalizeRequests.length, 1);
  });

  it('treats a finalize whose answer was lost as done once the job shows it was finalized', async () => {
    const job = await client.startJob({ source: 'integration-external', integrationInstanceId: 'duo-lost-answer' });
    await client.uploadEntities(job.id, duoGraph().entities);
    sim.scheduleFault({ kind: 'reset-after-processing', route: 'finalize' });
    const finalized = await client.finalizeIfNeeded(job.id, { types: [] });
    assert.ok(['FINALIZE_PENDING', 'FINISHED'].includes(finalized.status));
    const finished = await client.waitForJobToFinish(job.id, { pollIntervalMs: 5 });
    assert.equal(finished.numEntitiesCreated, 4);
    const finalizeRequests = sim.requestLog().filter((e) => e.route === 'finalize' && e.jobId === job.id);
    assert.deepEqual(
      finalizeRequests.map((e) => [e.status, e.errorCode]),
      [
        [0, undefined],
        [400, 'JOB_NOT_AWAITING_UPLOADS'],
      ],
    );
  });

  it('never starts a job twice: a start whose answer was lost is found by its id, or asked for again only when it had no effect', async () => {
    const target = { source: 'integration-external', integrationInstanceId: 'lost-answers' } as const;
    const jobsOf = () => sim.jobs().filter((info) => info.job.integrationInstanceId === 'lost-answers');
    sim.clearRequestLog();
    // The job is started, and the answer lost: it is looked up by the id the caller chose.
    sim.scheduleFault({ kind: 'reset-after-processing', route: 'start-job' });
    const found = await client.startJob(target, { integrationJobId: 'chosen-id-1' });
    assert.equal(found.id, 'chosen-id-1');
    assert.deepEqual(
      sim.requestLog().map((entry) => `${entry.route} ${entry.status}`),
      ['start-job 0', 'get-job 200'],
    );
    // A 500 may or may not have started it: looked up (not there), then asked for again.
    sim.clearRequestLog();
    sim.scheduleFault({ kind: 'server-error', route: 'start-job' });
    const second = await client.startJob(target, { integrationJobId: 'chosen-id-2' });
    assert.equal(second.id, 'chosen-id-2');
    assert.deepEqual(
      sim.requestLog().map((entry) => `${entry.route} ${entry.status}`),
      ['start-job 500', 'get-job 404', 'start-job 200'],
    );
    // A 429 certainly started nothing: asked for again at once.
    sim.clearRequestLog();
    sim.scheduleFault({ kind: 'rate-limit', route: 'start-job' });
    await client.startJob(target, { integrationJobId: 'chosen-id-3' });
    assert.deepEqual(
      sim.requestLog().map((entry) => `${entry.route} ${entry.status}`),
      ['start-job 429', 'start-job 200'],
    );
    assert.deepEqual(
      jobsOf().map((info) => info.job.id),
      ['chosen-id-1', 'chosen-id-2', 'chosen-id-3'],
      'one job per start, none twice',
    );
    for (const info of jobsOf()) await client.abortJob(info.job.id, 'test over');
  });

  it('fails at once, without retrying, when an upload reaches a job that no longer awaits uploads', async () => {
    const finished = await synchronize('duo-closed', duoGraph());
    await assert.rejects(client.uploadEntities(finished.id, [account()]), (error: unknown) => {
      assert.ok(error instanceof JupiterOneJobNotAwaitingUploadsError);
      assert.equal(error.code, 'JOB_NOT_AWAITING_UPLOADS');
      assert.equal(error.retryable, false);
      assert.equal(error.jobId, finished.id);
      return true;
    });
    const uploadsAfterFinish = sim
      .requestLog()
      .filter((e) => e.route === 'upload-entities' && e.jobId === finished.id && e.status === 400);
    assert.equal(uploadsAfterFinish.length, 1);
  });

  it('aborts a job: its uploads are discarded and it cannot be finalized', async () => {
    await synchronize('duo-abort', duoGraph());
    const before = sim.heldGraph({ integrationInstanceId: 'duo-abort' });
    const job = await client.startJob({ source: 'integration-external', integrationInstanceId: 'duo-abort' });
    await client.uploadEntities(job.id, [account()]);
    const aborted = await client.abortJob(job.id, 'Workflow duo-ingestion-default was cancelled');
    assert.equal(aborted.status, 'ABORTED');
    assert.equal(
      sim.jobs().find((j) => j.job.id === job.id)?.abortReason,
      'Workflow duo-ingestion-default was cancelled',
    );

    const untouched = await client.abortJobIfOpen(job.id, 'cleanup');
    assert.equal(untouched.status, 'ABORTED');
    assert.equal(sim.requestLog().filter((e) => e.route === 'abort' && e.jobId === job.id).length, 1);
    await assert.rejects(client.finalizeIfNeeded(job.id, { types: [] }), JupiterOneJobFailedError);
    assert.deepEqual(sim.heldGraph({ integrationInstanceId: 'duo-abort' }), before);
  });

  it('stops waiting for a job after the allowed time, reporting the status it was still in', async () => {
    const slow = await startJupiterOneSimulator({ finalizeDelayMs: 10 * 60_000 });
    stopAtEnd(() => slow.close());
    const slowClient = new JupiterOneSyncClient({ apiKey: slow.apiKey, account: slow.account, baseUrl: slow.url });
    const job = await slowClient.startJob({ source: 'integration-external', integrationInstanceId: 'duo-slow' });
    await slowClient.uploadEntities(job.id, [account()]);
    await slowClient.finalizeIfNeeded(job.id, { types: [] });
    const polled: string[] = [];
    await assert.rejects(
      slowClient.waitForJobToFinish(job.id, {
        timeoutMs: 30,
        pollIntervalMs: 5,
        onPoll: (j) => void polled.push(j.status),
      }),
      (error: unknown) => {
        assert.ok(error instanceof JupiterOneJobWaitTimeoutError);
        assert.equal(error.lastStatus, 'FINALIZE_PENDING');
        assert.equal(error.retryable, true);
        return true;
      },
    );
    assert.ok(polled.length >= 1 && polled.every((status) => status === 'FINALIZE_PENDING'));
  });

  it('rejects a wrong API key as an authentication error, without retrying and without the key in the message', async () => {
    const wrongKey = `${sim.apiKey}-not-this-one`;
    const logLines: string[] = [];
    const wrong = new JupiterOneSyncClient({
      apiKey: wrongKey,
      account: sim.account,
      baseUrl: sim.url,
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      logger: (level, message, fields) => logLines.push(JSON.stringify({ level, message, fields })),
    });
    const requestsBefore = sim.requestLog().length;
    await assert.rejects(
      wrong.startJob({ source: 'integration-external', integrationInstanceId: 'duo-auth' }),
      (error: unknown) => {
        assert.ok(error instanceof JupiterOneAuthenticationError);
        assert.equal(error.status, 401);
        assert.equal(error.retryable, false);
        assert.match(error.message, /JUPITERONE_API_KEY/);
        assert.ok(!error.message.includes(wrongKey) && !error.message.includes(sim.apiKey));
        return true;
      },
    );
    assert.equal(sim.requestLog().length, requestsBefore + 1);
    assert.ok(logLines.every((line) => !line.includes(sim.apiKey)));
  });
});
