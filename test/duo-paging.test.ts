import assert from 'node:assert/strict';
import { request } from 'undici';
import {
  DuoClient,
  DuoIncompleteListError,
  canonicalizeParams,
  computeDuoSignature,
  duoAuthorizationHeader,
  formatDuoDate,
  type DuoLogLevel,
  type DuoPage,
} from '../src/duo';
import { DUO_LIST_ENDPOINTS, type DuoListEndpointName } from '../src/resources/table';
import { generateTenant, startDuoSimulator, type DuoSimulator, type DuoTenant } from '../src/simulators/duo';
import { stopAtEnd } from './harness/root-hooks';

/** The ids of a list endpoint's records in the tenant (which serves each list under the endpoint's name). */
function idsOf(tenant: DuoTenant, name: DuoListEndpointName): string[] {
  const idField = DUO_LIST_ENDPOINTS[name].idField;
  return (tenant[name] as unknown as Array<Record<string, string>>).map((record) => record[idField]!);
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
    bypassCodes: 1003,
    endpoints: 1004,
    policies: 201,
    adminUnits: 201,
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

  for (const name of Object.keys(DUO_LIST_ENDPOINTS) as DuoListEndpointName[]) {
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

  it('asks for a page only when the consumer asks for it: a caller reading one page sends one request', async () => {
    const pages = client.pages('users', { pageSize: 1 });
    await pages.next();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await pages.return(undefined);
    assert.equal(simulator.requestLog.length, 1);
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
