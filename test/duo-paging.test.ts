import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import {
  DUO_LIST_ENDPOINTS,
  DUO_RESOURCES,
  DuoClient,
  DuoIncompleteListError,
  canonicalizeParams,
  computeDuoSignature,
  duoAuthorizationHeader,
  earlyReadAheadOffset,
  formatDuoDate,
  readAheadOffset,
  type DuoListEndpointName,
  type DuoLogLevel,
  type DuoPage,
} from '../src/duo';
import { generateTenant, startDuoSimulator, type DuoSimulator, type DuoTenant } from '../src/simulators/duo';
import { stopAtEnd } from './harness/root-hooks';

/** Tenant fields of each list endpoint. */
const TENANT_FIELD: Record<DuoListEndpointName, keyof DuoTenant> = {
  admins: 'admins',
  groups: 'groups',
  users: 'users',
  phones: 'phones',
  tokens: 'tokens',
  webauthncredentials: 'webauthncredentials',
  integrations: 'integrations',
};

function idsOf(tenant: DuoTenant, name: DuoListEndpointName): string[] {
  const idField = DUO_LIST_ENDPOINTS[name].idField;
  return (tenant[TENANT_FIELD[name]] as unknown as Array<Record<string, string>>).map((record) => record[idField]!);
}

async function collect<T>(pages: AsyncIterable<DuoPage<T>>): Promise<DuoPage<T>[]> {
  const collected: DuoPage<T>[] = [];
  for await (const page of pages) collected.push(page);
  return collected;
}

describe('Duo paging', () => {
  // Every list endpoint spans three pages at its maximum page size.
  const tenant = generateTenant({
    users: 700,
    seed: 5,
    phones: 1200,
    tokens: 1100,
    webauthn: 1001,
    groups: 1002,
    admins: 250,
    integrations: 201,
  });
  let simulator: DuoSimulator;
  const logLines: Array<{ level: DuoLogLevel; message: string; fields: Record<string, unknown> }> = [];
  let client: DuoClient;

  before(async () => {
    simulator = await startDuoSimulator({ tenant });
    stopAtEnd(() => simulator.close());
    client = new DuoClient({
      ...simulator.clientOptions,
      requestsPerMinute: 60_000,
      logger: (level, message, fields) => logLines.push({ level, message, fields }),
    });
  });
  beforeEach(() => {
    simulator.clearRequestLog();
    simulator.setFaults({});
    logLines.length = 0;
  });

  for (const name of Object.keys(TENANT_FIELD) as DuoListEndpointName[]) {
    it(`reads every ${name} record exactly once at the maximum page size`, async () => {
      const endpoint = DUO_LIST_ENDPOINTS[name];
      const pages = await collect(client.pages(name));
      const expected = idsOf(tenant, name);
      const received = pages.flatMap((page) => page.records.map((record) => String(record[endpoint.idField])));
      assert.deepEqual(received, expected);
      assert.equal(pages.length, Math.ceil(expected.length / endpoint.maxPageSize));
      assert.ok(pages.length >= 3);
      // Offsets chain through next_offset; the last page has none.
      pages.forEach((page, index) => {
        assert.equal(page.offset, index * endpoint.maxPageSize);
        assert.equal(page.totalObjects, expected.length);
        assert.equal(page.nextOffset, index < pages.length - 1 ? pages[index + 1]!.offset : undefined);
      });
      const requests = simulator.requestLog.filter((entry) => entry.path === endpoint.path);
      assert.ok(requests.every((entry) => entry.limit === endpoint.maxPageSize && entry.status === 200));
      assert.deepEqual(
        requests.map((entry) => entry.offset),
        pages.map((page) => page.offset),
      );
    });
  }

  it('resumes from a start offset', async () => {
    const pages = await collect(client.pages('users', { startOffset: 300 }));
    assert.deepEqual(
      pages.map((page) => page.offset),
      [300, 600],
    );
    assert.deepEqual(
      pages.flatMap((page) => page.records.map((user) => user.user_id)),
      idsOf(tenant, 'users').slice(300),
    );
  });

  it('never asks for more than the maximum page size; the simulator clamps larger limits', async () => {
    const pages = await collect(client.pages('users', { pageSize: 5000 }));
    assert.equal(pages[0]!.records.length, 300);
    assert.ok(simulator.requestLog.every((entry) => entry.limit === 300));

    const params = [
      ['limit', '1000'],
      ['offset', '0'],
    ] as const;
    const date = formatDuoDate(new Date());
    const response = await request(`${simulator.url}/admin/v1/users?${canonicalizeParams(params)}`, {
      headers: {
        date,
        authorization: duoAuthorizationHeader(
          simulator.integrationKey,
          computeDuoSignature('v5', simulator.secretKey, {
            method: 'GET',
            host: simulator.apiHostname,
            path: '/admin/v1/users',
            params,
            date,
          }),
        ),
      },
    });
    const body = (await response.body.json()) as { response: unknown[]; metadata: Record<string, number> };
    assert.equal(body.response.length, 300);
    assert.deepEqual(body.metadata, { next_offset: 300, total_objects: 700 });
  });

  it('follows next_offset through short pages without losing or repeating records', async () => {
    simulator.setFaults({ shortPages: true });
    const pages = await collect(client.pages('phones'));
    const received = pages.flatMap((page) => page.records.map((phone) => phone.phone_id));
    assert.deepEqual(received, idsOf(tenant, 'phones'));
    assert.ok(pages.length > 3, `short pages should need more than 3 requests, got ${pages.length}`);
    assert.ok(pages.some((page) => page.records.length < 500));
  });

  const anomalies = [
    ['missing-metadata', 'missing-metadata', 'a page without metadata', 300],
    ['stuck-offset', 'offset-did-not-advance', 'a next_offset that does not advance', 300],
    ['empty-page', 'empty-page', 'an empty page that promises more', 300],
  ] as const;
  for (const [kind, reason, description, atOffset] of anomalies) {
    it(`refuses to end a list at ${description}: asks again, then throws DuoIncompleteListError`, async () => {
      simulator.setFaults({ pagingAnomalies: { '/admin/v1/users': { kind, fromOffset: atOffset } } });
      const retrying = new DuoClient({
        ...simulator.clientOptions,
        requestsPerMinute: 60_000,
        transientRetryBackoffMs: [10, 20],
        retryJitterMs: 0,
        logger: (level, message, fields) => logLines.push({ level, message, fields }),
      });
      const pages: DuoPage<unknown>[] = [];
      const error = await (async () => {
        for await (const page of retrying.pages('users')) pages.push(page);
      })().then(
        () => assert.fail('an incomplete list must not end normally'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DuoIncompleteListError, String(error));
      assert.equal(error.details.reason, reason);
      assert.equal(error.details.offset, atOffset);
      assert.equal(error.details.recordsRead, 300);
      assert.equal(error.retryable, false);
      assert.match(error.message, /cannot be read completely/);
      assert.equal(pages.length, 1, 'only the pages before the anomaly are handed over');
      const users = simulator.requestLog.filter((entry) => entry.path === '/admin/v1/users');
      assert.deepEqual(
        users.map((entry) => entry.offset),
        [0, 300, 300, 300],
        'the page that cannot be followed is asked for twice more',
      );
      const logged = logLines.find((line) => line.level === 'error' && line.fields.reason === reason);
      assert.ok(logged, `expected an error line naming ${reason}`);
      assert.equal(logged.fields.endpoint, '/admin/v1/users');
    });
  }

  it('refuses a list that ends short of its total_objects', async () => {
    simulator.setFaults({ pagingAnomalies: { '/admin/v1/users': { kind: 'ends-early', fromOffset: 300 } } });
    const pages: DuoPage<unknown>[] = [];
    const error = await (async () => {
      for await (const page of client.pages('users')) pages.push(page);
    })().then(
      () => assert.fail('a short list must not end normally'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof DuoIncompleteListError, String(error));
    assert.equal(error.details.reason, 'count-mismatch');
    assert.equal(error.details.recordsRead, 600);
    assert.equal(error.details.totalObjects, tenant.users.length);
    assert.match(error.message, /ended after 600 records, but Duo announced 700/);
    assert.equal(pages.length, 1, 'the page that ends the list short is not handed over');
  });

  it('checks the count of a resumed read against what the earlier attempt read', async () => {
    const resumed = await collect(client.pages('users', { startOffset: 600, recordsBeforeStart: 600 }));
    assert.equal(resumed.length, 1);
    await assert.rejects(
      collect(client.pages('users', { startOffset: 600, recordsBeforeStart: 300 })),
      (error: unknown) => error instanceof DuoIncompleteListError && error.details.reason === 'count-mismatch',
    );
  });

  /** Waits until the simulator has logged `count` requests, or gives up after two seconds. */
  async function requestsLogged(count: number): Promise<number> {
    for (let waited = 0; simulator.requestLog.length < count && waited < 2000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return simulator.requestLog.length;
  }

  it('requests the next page while the consumer still holds the current one, at the offset Duo stated', async () => {
    const pages = client.pages('users');
    const first = await pages.next();
    assert.equal(first.done, false);
    // The consumer has not asked for page 2, yet it is on its way: it was requested from page 1's text.
    assert.equal(await requestsLogged(2), 2);
    assert.deepEqual(
      simulator.requestLog.map((entry) => entry.offset),
      [0, 300],
    );
    const rest = await collect({ [Symbol.asyncIterator]: () => pages });
    assert.deepEqual(
      [first.value, ...rest].map((page) => page!.offset),
      [0, 300, 600],
    );
    // Nothing was requested twice or in vain.
    assert.deepEqual(
      simulator.requestLog.map((entry) => entry.offset),
      [0, 300, 600],
    );
  });

  it('requests nothing ahead when told not to (a caller reading one page only)', async () => {
    const pages = client.pages('users', { pageSize: 1, readAhead: false });
    await pages.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await pages.return(undefined);
    assert.equal(simulator.requestLog.length, 1);
  });

  it('requests the next page as soon as an answer’s first bytes state next_offset, before the rest arrives', async () => {
    const events: string[] = [];
    let secondRequested!: () => void;
    const second = new Promise<void>((resolve) => (secondRequested = resolve));
    const server = createServer((request, response) => {
      const offset = new URL(request.url ?? '/', 'http://duo').searchParams.get('offset');
      events.push(`request ${offset}`);
      response.writeHead(200, { 'content-type': 'application/json' });
      if (offset !== '0') {
        secondRequested();
        response.end('{"metadata":{"total_objects":3},"response":[{"user_id":"DU2","username":"b"}],"stat":"OK"}');
        return;
      }
      // Page 1's start: its metadata and first record. The rest comes only once page 2 is asked
      // for (or after five seconds, so that a client waiting for the whole answer fails the test).
      response.write('{"metadata":{"next_offset":2,"total_objects":3},"response":[{"user_id":"DU1","username":"a"}');
      const rest = ',{"user_id":"DU1b","username":"a2"}],"stat":"OK"}';
      const fallback = setTimeout(() => {
        events.push('page 0 ended without page 1 asked for');
        response.end(rest);
      }, 5000);
      void second.then(() => {
        clearTimeout(fallback);
        events.push('page 0 ended');
        response.end(rest);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stopAtEnd(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const early = new DuoClient({
      ...simulator.clientOptions,
      insecureBaseUrl: `http://127.0.0.1:${port}`,
      requestsPerMinute: 60_000,
    });
    const pages = await collect(early.pages('users'));
    assert.deepEqual(events, ['request 0', 'request 2', 'page 0 ended']);
    assert.deepEqual(
      pages.map((page) => page.records.map((record) => record.user_id)),
      [['DU1', 'DU1b'], ['DU2']],
    );
  });

  it('decides from an answer’s first bytes only when they show the envelope’s next_offset and a record', () => {
    const decided = (offset?: number) => ({ decided: true, ...(offset === undefined ? {} : { offset }) });
    assert.deepEqual(
      earlyReadAheadOffset('{"metadata":{"next_offset":300,"total_objects":900},"response":[{"a'),
      decided(300),
    );
    assert.deepEqual(earlyReadAheadOffset('{"metadata": { "next_offset" : 7 }, "response" : [ {'), decided(7));
    // An empty page that promises more ends the paging: decided, nothing to read ahead.
    assert.deepEqual(earlyReadAheadOffset('{"metadata":{"next_offset":600},"response": [ ]'), decided());
    // Not yet known: the start ends too early, or metadata comes after the records (then the whole text decides).
    assert.deepEqual(earlyReadAheadOffset('{"metadata":{"next_offset":300,"total'), { decided: false });
    assert.deepEqual(earlyReadAheadOffset('{"metadata":{"next_offset":300},"response":['), { decided: false });
    assert.deepEqual(earlyReadAheadOffset('{"response":[{"next_offset":5}],"metadata":{"next_offset":9}}'), {
      decided: false,
    });
    assert.deepEqual(earlyReadAheadOffset('{"metadata":{"total_objects":1},"response":[{"a":1}]}'), { decided: false });
    assert.deepEqual(earlyReadAheadOffset('{"metadata":{"next_offset":null},"response":[{"a":1}]}'), {
      decided: false,
    });
  });

  it('reads the stated next offset from a page text without parsing it', () => {
    assert.equal(readAheadOffset('{"metadata":{"next_offset":300,"total_objects":900},"response":[{"a":1}]}'), 300);
    assert.equal(readAheadOffset('{"response":[{"a":1}],"stat":"OK","metadata":{ "next_offset" : 7 }}'), 7);
    // A record's own "next_offset" member may be read instead: pages uses the offset only once the parsed page agrees.
    assert.equal(readAheadOffset('{"response":[{"next_offset":5}],"metadata":{"next_offset":9}}'), 5);
    assert.equal(readAheadOffset('{"metadata":{"next_offset":null},"response":[{"a":1}]}'), undefined);
    assert.equal(readAheadOffset('{"metadata":{"total_objects":1},"response":[{"a":1}]}'), undefined);
    assert.equal(readAheadOffset('{"response":[{"note":"\\"next_offset\\":4"}]}'), undefined);
    // An empty page that promises more ends the paging; nothing is read ahead after it.
    assert.equal(readAheadOffset('{"metadata":{"next_offset":600},"response": [ ],"stat":"OK"}'), undefined);
  });

  it('declares each resource with its endpoints, grants and page size', () => {
    const table = Object.values(DUO_RESOURCES).map((resource) => [
      resource.name,
      resource.endpoints.map((endpoint) => endpoint.path),
      resource.grants,
      resource.pageSize,
    ]);
    assert.deepEqual(table, [
      [
        'account',
        ['/admin/v1/settings', '/admin/v1/info/summary'],
        ['Grant settings', 'Grant read information'],
        undefined,
      ],
      ['admins', ['/admin/v1/admins'], ['Grant administrators'], 100],
      ['groups', ['/admin/v1/groups'], ['Grant read resource'], 500],
      ['users', ['/admin/v1/users'], ['Grant read resource'], 300],
      ['phones', ['/admin/v1/phones'], ['Grant read resource'], 500],
      ['tokens', ['/admin/v1/tokens'], ['Grant read resource'], 500],
      ['webauthn', ['/admin/v1/webauthncredentials'], ['Grant read resource'], 500],
      ['integrations', ['/admin/v3/integrations'], ['Grant read resource'], 100],
    ]);
  });

  it('treats an empty list without next_offset as a normal, complete read', async () => {
    const empty = await startDuoSimulator({ tenant: generateTenant({ users: 3, seed: 2, tokens: 0 }) });
    stopAtEnd(() => empty.close());
    const pages = await collect(
      new DuoClient({ ...empty.clientOptions, requestsPerMinute: 60_000, logger: () => {} }).pages('tokens'),
    );
    assert.equal(pages.length, 1);
    assert.deepEqual(pages[0]!.records, []);
    assert.equal(pages[0]!.totalObjects, 0);
  });
});
