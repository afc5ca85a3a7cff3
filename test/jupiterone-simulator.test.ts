/**
 * The JupiterOne simulator spoken to with plain HTTP requests (not through our client), so that its
 * own rules are checked: authentication, job configuration, graph-object validation, duplicate
 * keys, the payload limit, job states, mapped-relationship resolution options, and inspection.
 */
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import {
  type JupiterOneSimulator,
  runJupiterOneSimulatorCommand,
  startJupiterOneSimulator,
} from '../src/simulators/jupiterone';
import { decodeRequestBody } from '../src/simulators/jupiterone/content-encoding';
import type { UploadReaderOptions } from '../src/simulators/jupiterone/upload-readers';
import { stopAtEnd } from './harness/root-hooks';

interface Reply {
  status: number;
  body: { job?: Record<string, unknown>; error?: { code: string; message: string } } & Record<string, unknown>;
}

const JOBS = '/persister/synchronization/jobs';

// Every rule holds whichever way a body is read: inline (small bodies) or on reader threads (large).
const READERS: [string, UploadReaderOptions][] = [
  ['bodies read inline', { threads: 0 }],
  ['every body read on reader threads', { threads: 2, threadedBytes: 0 }],
];

for (const [readersLabel, uploadReaders] of READERS)
  describe(`JupiterOne simulator, ${readersLabel}`, () => {
    let sim: JupiterOneSimulator;

    before(async () => {
      sim = await startJupiterOneSimulator({ maxBodyBytes: 64 * 1024, finalizeDelayMs: 40, uploadReaders });
      stopAtEnd(() => sim.close());
    });

    async function call(
      method: 'GET' | 'POST',
      path: string,
      body?: unknown,
      headers: Record<string, string> = { authorization: `Bearer ${sim.apiKey}`, 'jupiterone-account': sim.account },
    ): Promise<Reply> {
      const response = await request(sim.url + path, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined || typeof body === 'string' || body instanceof Buffer ? body : JSON.stringify(body),
      });
      return { status: response.statusCode, body: (await response.body.json()) as Reply['body'] };
    }

    async function startJob(instance: string): Promise<string> {
      const reply = await call('POST', JOBS, { source: 'integration-external', integrationInstanceId: instance });
      assert.equal(reply.status, 200);
      return reply.body.job?.id as string;
    }

    async function finalizeAndWait(jobId: string, types: string[] = []): Promise<Record<string, unknown>> {
      const finalized = await call('POST', `${JOBS}/${jobId}/finalize`, { partialDatasets: { types } });
      assert.equal(finalized.status, 200);
      for (;;) {
        const reply = await call('GET', `${JOBS}/${jobId}`);
        if (reply.body.job?.status === 'FINISHED') return reply.body.job;
        assert.equal(reply.body.job?.status, 'FINALIZE_PENDING');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    const group = (id: string, extra: Record<string, unknown> = {}) => ({
      _key: `duo-group:${id}`,
      _type: 'duo_group',
      _class: ['UserGroup'],
      name: id,
      displayName: id,
      ...extra,
    });

    it('answers 401 without the bearer key or the account header, and accepts the legacy account header', async () => {
      const noKey = await call('POST', JOBS, { source: 'api', scope: 's1' }, { 'jupiterone-account': sim.account });
      assert.equal(noKey.status, 401);
      assert.equal(noKey.body.error?.code, 'UNAUTHORIZED');
      const wrongAccount = await call(
        'POST',
        JOBS,
        { source: 'api', scope: 's1' },
        { authorization: `Bearer ${sim.apiKey}`, 'jupiterone-account': 'someone-else' },
      );
      assert.equal(wrongAccount.status, 401);
      const legacy = await call(
        'POST',
        JOBS,
        { source: 'api', scope: 's1' },
        { authorization: `Bearer ${sim.apiKey}`, 'lifeomic-account': sim.account },
      );
      assert.equal(legacy.status, 200);
      assert.equal(legacy.body.job?.status, 'AWAITING_UPLOADS');
      assert.equal(legacy.body.job?.numEntitiesUploaded, 0);
    });

    it('validates the job configuration', async () => {
      const cases: [unknown, string][] = [
        [{ source: 'api' }, 'SCOPE_REQUIRED'],
        [{ source: 'api', scope: 's', integrationInstanceId: 'i' }, 'INVALID_JOB_CONFIGURATION'],
        [{ source: 'integration-external' }, 'INTEGRATION_INSTANCE_REQUIRED'],
        [{ source: 'somewhere' }, 'INVALID_SOURCE'],
        [{ source: 'api', scope: 's', syncMode: 'CREATE_OR_UPDATE' }, 'UNSUPPORTED_SYNC_MODE'],
      ];
      for (const [body, code] of cases) {
        const reply = await call('POST', JOBS, body);
        assert.equal(reply.status, 400, JSON.stringify(body));
        assert.equal(reply.body.error?.code, code);
      }
      const withJobId = await call('POST', JOBS, {
        source: 'integration-managed',
        integrationInstanceId: 'inst',
        integrationJobId: 'job-from-integration',
      });
      assert.equal(withJobId.body.job?.id, 'job-from-integration');
      assert.equal(withJobId.body.job?.integrationJobId, 'job-from-integration');
    });

    it('refuses invalid graph objects with the rule they break, and keeps nothing of that batch', async () => {
      const jobId = await startJob('sim-validation');
      const invalidEntities: [unknown, RegExp][] = [
        [group('short', { _key: 'short' }), /_key must be a string of at least 10/],
        [{ ...group('G1'), _type: undefined }, /_type/],
        [{ ...group('G1'), _class: [] }, /_class/],
        [group('G1', { nested: { a: 1 } }), /"nested" is an object/],
        [group('G1', { mixed: ['a', 1] }), /mixes number and string/],
        [group('G1', { _private: 'x' }), /"_private" is reserved/],
        [
          group('G1', {
            _rawData: [
              { name: 'a', rawData: {} },
              { name: 'a', rawData: {} },
            ],
          }),
          /used twice/,
        ],
      ];
      for (const [object, message] of invalidEntities) {
        const reply = await call('POST', `${JOBS}/${jobId}/entities`, { entities: [group('GOOD00000'), object] });
        assert.equal(reply.status, 400);
        assert.equal(reply.body.error?.code, 'INVALID_GRAPH_OBJECT');
        assert.match(reply.body.error?.message ?? '', message);
        assert.match(reply.body.error?.message ?? '', /entities\[1\]/);
      }
      const relationship = {
        _key: 'duo-group:G1|has|duo-user:U1',
        _type: 'duo_group_has_user',
        _class: 'HAS',
        _fromEntityKey: 'duo-group:G1',
        _toEntityKey: 'duo-user:U1',
        displayName: 'HAS',
      };
      const invalidRelationships: [unknown, RegExp][] = [
        [{ ...relationship, tags: ['a'] }, /relationship properties must be primitive/],
        [{ ...relationship, _toEntityKey: undefined }, /_toEntityKey must be a non-empty string/],
        [
          {
            ...relationship,
            _fromEntityKey: undefined,
            _toEntityKey: undefined,
            _mapping: {
              relationshipDirection: 'REVERSE',
              sourceEntityKey: 'duo-user:U1',
              targetFilterKeys: [['_type', 'email']],
              targetEntity: { _type: 'employee', _class: 'Person' },
            },
          },
          /names "email", which _mapping.targetEntity does not have/,
        ],
        [{ ...relationship, _mapping: {} }, /must not have _fromEntityKey/],
      ];
      for (const [object, message] of invalidRelationships) {
        const reply = await call('POST', `${JOBS}/${jobId}/relationships`, { relationships: [object] });
        assert.equal(reply.status, 400);
        assert.match(reply.body.error?.message ?? '', message);
      }
      const notArray = await call('POST', `${JOBS}/${jobId}/entities`, { entities: {} });
      assert.equal(notArray.body.error?.code, 'ENTITY_IS_NOT_ARRAY');
      const job = await call('GET', `${JOBS}/${jobId}`);
      assert.equal(job.body.job?.numEntitiesUploaded, 0);
      assert.equal(job.body.job?.numRelationshipsUploaded, 0);
    });

    it('refuses duplicate keys unless ignoreDuplicates=true, and then keeps the latest copy', async () => {
      const jobId = await startJob('sim-duplicates');
      const first = await call('POST', `${JOBS}/${jobId}/entities`, {
        entities: [group('G1', { description: 'old' })],
      });
      assert.equal(first.status, 200);
      const duplicate = await call('POST', `${JOBS}/${jobId}/entities`, { entities: [group('G1')] });
      assert.equal(duplicate.status, 400);
      assert.equal(duplicate.body.error?.code, 'DUPLICATE_KEY_DETECTED');
      const inOneBatch = await call('POST', `${JOBS}/${jobId}/entities`, { entities: [group('G2'), group('G2')] });
      assert.equal(inOneBatch.body.error?.code, 'DUPLICATE_KEY_DETECTED');
      const ignored = await call('POST', `${JOBS}/${jobId}/entities?ignoreDuplicates=true`, {
        entities: [group('G1', { description: 'new' })],
      });
      assert.equal(ignored.status, 200);
      await finalizeAndWait(jobId);
      assert.deepEqual(sim.heldGraph({ integrationInstanceId: 'sim-duplicates' }).entities, [
        group('G1', { description: 'new' }),
      ]);
    });

    it('answers 413 to a body above the payload limit', async () => {
      const jobId = await startJob('sim-limit');
      const big = Array.from({ length: 400 }, (_, i) =>
        group(`G${String(i).padStart(8, '0')}`, { d: 'z'.repeat(200) }),
      );
      const reply = await call('POST', `${JOBS}/${jobId}/entities`, { entities: big });
      assert.equal(reply.status, 413);
      assert.match(reply.body.error?.message ?? '', /smaller than 65536 bytes/);
      const entry = sim.requestLog().find((e) => e.jobId === jobId && e.status === 413);
      assert.ok(entry && entry.bodyBytes > 64 * 1024);
    });

    it('decodes gzip and deflate bodies, applies the payload limit to the decoded body, and answers 415 when Content-Encoding misdescribes the body', async () => {
      const jobId = await startJob('sim-encoding');
      const headers = (contentEncoding: string) => ({
        authorization: `Bearer ${sim.apiKey}`,
        'jupiterone-account': sim.account,
        'content-encoding': contentEncoding,
        'user-agent': 'encoding-test/1.0',
      });
      const upload = (body: Buffer, contentEncoding: string) =>
        call('POST', `${JOBS}/${jobId}/entities`, body, headers(contentEncoding));
      const plain = Buffer.from(JSON.stringify({ entities: [group('G1')] }));
      const gzipped = gzipSync(plain);
      assert.equal((await upload(gzipped, 'gzip')).status, 200);
      assert.equal(
        (await upload(deflateSync(Buffer.from(JSON.stringify({ entities: [group('G2')] }))), 'deflate')).status,
        200,
      );

      // Small on the wire, above the limit once decoded: refused, as JupiterOne's Lambda refuses it.
      const big = Buffer.from(
        JSON.stringify({
          entities: Array.from({ length: 400 }, (_, i) =>
            group(`B${String(i).padStart(8, '0')}`, { d: 'z'.repeat(200) }),
          ),
        }),
      );
      const bigGzipped = gzipSync(big);
      assert.ok(big.length > 64 * 1024 && bigGzipped.length < 64 * 1024);
      const tooLarge = await upload(bigGzipped, 'gzip');
      assert.equal(tooLarge.status, 413);
      assert.match(tooLarge.body.error?.message ?? '', /smaller than 65536 bytes/);

      // A body that is not encoded as its header says, or a coding JupiterOne does not decode.
      const lie = await upload(plain, 'gzip');
      assert.equal(lie.status, 415);
      assert.match(lie.body.error?.message ?? '', /not gzip-encoded/);
      assert.equal((await upload(gzipped, 'br')).status, 415);

      const uploads = sim.requestLog().filter((e) => e.jobId === jobId && e.route === 'upload-entities');
      assert.deepEqual(
        uploads.map((e) => [e.status, e.contentEncoding, e.userAgent]),
        [
          [200, 'gzip', 'encoding-test/1.0'],
          [200, 'deflate', 'encoding-test/1.0'],
          [413, 'gzip', 'encoding-test/1.0'],
          [415, 'gzip', 'encoding-test/1.0'],
          [415, 'br', 'encoding-test/1.0'],
        ],
      );
      assert.equal(uploads[0].bodyBytes, gzipped.length, 'the size received');
      assert.equal(uploads[0].decodedBytes, plain.length, 'the size decoded');
      const job = await call('GET', `${JOBS}/${jobId}`);
      assert.equal(job.body.job?.numEntitiesUploaded, 2, 'nothing of a refused body is kept');
    });

    it('moves a job through FINALIZE_PENDING to FINISHED and refuses uploads, finalize and abort afterwards', async () => {
      const jobId = await startJob('sim-states');
      await call('POST', `${JOBS}/${jobId}/upload`, { entities: [group('G1')], relationships: [] });
      const finished = await finalizeAndWait(jobId);
      assert.equal(finished.numEntitiesCreated, 1);
      assert.equal(finished.done, true);
      for (const action of ['entities', 'finalize', 'abort']) {
        const reply = await call('POST', `${JOBS}/${jobId}/${action}`, { entities: [] });
        assert.equal(reply.status, 400);
        assert.equal(reply.body.error?.code, 'JOB_NOT_AWAITING_UPLOADS');
      }
      const unknown = await call('GET', `${JOBS}/no-such-job`);
      assert.equal(unknown.status, 404);
    });

    it('does not create relationships to missing entities, and honours skipTargetCreation and FORWARD mappings', async () => {
      const jobId = await startJob('sim-mapping');
      const user = {
        _key: 'duo-user:U1',
        _type: 'duo_user',
        _class: ['User'],
        name: 'U1',
        displayName: 'U1',
        email: ['u1@example.com'],
      };
      await call('POST', `${JOBS}/${jobId}/entities`, { entities: [user, group('G1')] });
      const mapped = (key: string, direction: string, skip: boolean, email: string) => ({
        _key: key,
        _type: 'duo_user_is_employee',
        _class: 'IS',
        displayName: 'IS',
        _mapping: {
          relationshipDirection: direction,
          sourceEntityKey: user._key,
          targetFilterKeys: [['_type', 'email']],
          targetEntity: { _type: 'employee', _class: 'Person', email },
          skipTargetCreation: skip,
        },
      });
      await call('POST', `${JOBS}/${jobId}/relationships`, {
        relationships: [
          {
            _key: 'duo-group:G1|has|duo-user:GONE',
            _type: 'duo_group_has_user',
            _class: 'HAS',
            _fromEntityKey: 'duo-group:G1',
            _toEntityKey: 'duo-user:GONE',
            displayName: 'HAS',
          },
          mapped('mapping-skipped-1', 'REVERSE', true, 'nobody@example.com'),
          mapped('mapping-forward-1', 'FORWARD', false, 'u1@example.com'),
        ],
      });
      const finished = await finalizeAndWait(jobId);
      assert.equal(finished.numRelationshipCreateErrors, 1);
      assert.equal(finished.numRelationshipsCreated, 0);
      assert.equal(finished.numMappedRelationshipsCreated, 1);
      const held = sim.heldGraph({ integrationInstanceId: 'sim-mapping' });
      assert.equal(held.relationships.length, 0);
      assert.deepEqual(
        held.mappedRelationships.map((m) => [m.relationship._key, m.edges[0]._fromEntityKey]),
        [['mapping-forward-1', 'duo-user:U1']],
      );
      const employees = sim.heldGraph({ owner: 'system-mapper' }).entities;
      assert.ok(!employees.some((e) => e.email === 'nobody@example.com'));
      assert.ok(employees.some((e) => e.email === 'u1@example.com'));
    });

    it('serves the held graph, jobs and request log on its inspection routes, behind the same auth', async () => {
      const graph = await call('GET', '/__sim/graph?integrationInstanceId=sim-states');
      assert.deepEqual(graph.body, sim.heldGraph({ integrationInstanceId: 'sim-states' }));
      assert.equal((graph.body.entities as unknown[]).length, 1);
      const jobs = await call('GET', '/__sim/jobs');
      assert.ok((jobs.body.jobs as unknown[]).length >= 5);
      const requests = await call('GET', '/__sim/requests');
      assert.ok(!JSON.stringify(requests.body).includes(sim.apiKey));
      const anonymous = await call('GET', '/__sim/graph?scope=x', undefined, {});
      assert.equal(anonymous.status, 401);
    });

    it('prints one JSON line with its URL and test credentials once it listens', async () => {
      const lines: string[] = [];
      const started = await runJupiterOneSimulatorCommand(
        { apiKey: 'printed-test-key', account: 'printed-account' },
        (line) => lines.push(line),
      );
      stopAtEnd(() => started.close());
      assert.equal(lines.length, 1);
      const printed = JSON.parse(lines[0]) as { url: string; apiKey: string; account: string };
      assert.deepEqual(printed, { url: started.url, apiKey: 'printed-test-key', account: 'printed-account' });
      const reply = await request(`${printed.url}${JOBS}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${printed.apiKey}`, 'jupiterone-account': printed.account },
        body: JSON.stringify({ source: 'api', scope: 'printed' }),
      });
      assert.equal(reply.statusCode, 200);
      await reply.body.dump();
    });
  });

describe('JupiterOne simulator, request body decoding', () => {
  it('gives back a body of many decoding steps whole, and refuses it one byte over the limit', async () => {
    // Some 830 kB: several steps of decoded output (256 kB each).
    const body = Buffer.from(Array.from({ length: 120_000 }, (_, i) => `${(i * 2654435761) % 1_000_003},`).join(''));
    for (const [coding, encoded] of [
      ['gzip', gzipSync(body)],
      ['deflate', deflateSync(body)],
    ] as const) {
      assert.deepEqual(await decodeRequestBody(coding, encoded, body.length), body, coding);
      await assert.rejects(decodeRequestBody(coding, encoded, body.length - 1), { status: 413 }, coding);
    }
  });
});
