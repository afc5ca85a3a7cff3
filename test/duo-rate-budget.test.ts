import assert from 'node:assert/strict';
import {
  DuoClient,
  DuoConfigurationError,
  DuoRateLimitError,
  RateBudget,
  parseRequestsPerMinute,
  sharedRateBudget,
  type DuoClientOptions,
} from '../src/duo';
import { DUO_LIST_ENDPOINTS, type DuoListEndpointName } from '../src/resources/table';
import { generateTenant, startDuoSimulator, type DuoSimulator } from '../src/simulators/duo';
import { stopAtEnd } from './harness/root-hooks';
import { listAll } from './harness/duo';

const LIST_ENDPOINTS = Object.keys(DUO_LIST_ENDPOINTS) as DuoListEndpointName[];

/** What one fetch stage does: every resource in parallel; returns the ids read per endpoint. */
async function fetchEverything(client: DuoClient, pageSize?: number): Promise<Map<DuoListEndpointName, string[]>> {
  const ids = new Map<DuoListEndpointName, string[]>();
  await Promise.all([
    client.getObject('settings'),
    client.getObject('infoSummary'),
    ...LIST_ENDPOINTS.map(async (name) => {
      const idField = DUO_LIST_ENDPOINTS[name].idField;
      const records = await listAll(client, name, { pageSize });
      ids.set(
        name,
        records.map((record) => String(record[idField])),
      );
    }),
  ]);
  return ids;
}

function assertEverythingOnce(simulator: DuoSimulator, ids: Map<DuoListEndpointName, string[]>): void {
  for (const name of LIST_ENDPOINTS) {
    const idField = DUO_LIST_ENDPOINTS[name].idField;
    const expected = (simulator.tenant[name] as unknown as Array<Record<string, string>>).map((r) => r[idField]);
    assert.deepEqual(ids.get(name), expected, `${name}: every record exactly once`);
  }
}

describe('Duo rate budget', () => {
  // Many small pages so the percentage means something, at a rate that finishes in seconds.
  const tenant = generateTenant({ users: 5000, seed: 21 });
  const requestsPerMinute = 6000;
  const pageSize = 100;

  async function limitedSimulator(): Promise<DuoSimulator> {
    // A small bucket: without pacing, bursts are refused at once.
    const simulator = await startDuoSimulator({ tenant, requestsPerMinute, rateLimitBurst: 5 });
    stopAtEnd(() => simulator.close());
    return simulator;
  }

  function clientFor(simulator: DuoSimulator, options: Partial<DuoClientOptions> = {}): DuoClient {
    return new DuoClient({
      ...simulator.clientOptions,
      requestsPerMinute,
      rateLimitBackoffMs: [5, 10, 20, 40, 80, 160, 320, 640],
      retryJitterMs: 5,
      logger: () => {},
      ...options,
    });
  }

  it('keeps 429s under 1% for concurrent 5,000-user fetches sharing one budget', async () => {
    const simulator = await limitedSimulator();
    // Two clients of the same account fetching at once (say, a run and a validate) share the budget.
    const [first, second] = await Promise.all([
      fetchEverything(clientFor(simulator), pageSize),
      fetchEverything(clientFor(simulator), pageSize),
    ]);
    assertEverythingOnce(simulator, first);
    assertEverythingOnce(simulator, second);
    const total = simulator.requestLog.length;
    const rateLimited = simulator.requestLog.filter((entry) => entry.status === 429).length;
    assert.ok(total > 200, `expected a few hundred requests, saw ${total}`);
    assert.ok(rateLimited / total < 0.01, `${rateLimited} of ${total} requests were answered 429`);
  });

  it('is what keeps 429s away: the same limit refuses a client that ignores it', async () => {
    const simulator = await limitedSimulator();
    const greedy = clientFor(simulator, { requestsPerMinute: 6_000_000 });
    // Tiny pages from several concurrent readers: far more than 100 requests a second on any machine.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        let pages = 0;
        for await (const _page of greedy.pages('users', { pageSize: 1 })) if (++pages === 15) break;
      }),
    );
    const rateLimited = simulator.requestLog.filter((entry) => entry.status === 429);
    assert.ok(rateLimited.length >= 10, `only ${rateLimited.length} of ${simulator.requestLog.length} were 429`);
    assert.ok(rateLimited.every((entry) => entry.code === 42901));
  });

  it('delivers every record exactly once through a 429 storm, backing off', async () => {
    const simulator = await startDuoSimulator({ tenant, faults: { tooManyRequestsRate: 0.3 } });
    stopAtEnd(() => simulator.close());
    // Long enough that a request refused 13 times in a row (0.3^13) never happens in practice.
    const client = clientFor(simulator, { rateLimitBackoffMs: [5, 10, 20, 40, 80, 80, 80, 80, 80, 80, 80, 80] });
    assertEverythingOnce(simulator, await fetchEverything(client, 250));
    const rateLimited = simulator.requestLog.filter((entry) => entry.status === 429).length;
    assert.ok(rateLimited > 10, `the storm should have refused many requests, refused ${rateLimited}`);
  });

  it('gives up with DuoRateLimitError after the whole backoff schedule', async () => {
    const simulator = await startDuoSimulator({
      users: 5,
      faults: { endpointErrors: { '/admin/v1/users': { status: 429, code: 42901 } } },
    });
    stopAtEnd(() => simulator.close());
    const client = clientFor(simulator, { rateLimitBackoffMs: [1, 2, 4] });
    const error = await listAll(client, 'users').then(
      () => assert.fail('expected a rate-limit error'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof DuoRateLimitError);
    assert.equal(error.attempts, 4);
    assert.equal(error.code, 42901);
    assert.equal(error.retryable, true);
    assert.match(error.message, /DUO_REQUESTS_PER_MINUTE/);
    assert.equal(simulator.requestLog.filter((entry) => entry.path === '/admin/v1/users').length, 4);
  });

  it('shares one budget per account and endpoint, and lets a new rate replace the old', () => {
    const account = { apiHostname: 'api-abcdef12.duosecurity.com', integrationKey: 'DIBUDGETTESTBUDGET01' };
    const users = sharedRateBudget(account, '/admin/v1/users', 150);
    assert.equal(
      sharedRateBudget({ ...account, apiHostname: 'API-ABCDEF12.duosecurity.com' }, '/admin/v1/users', 150),
      users,
    );
    assert.notEqual(sharedRateBudget(account, '/admin/v1/phones', 150), users);
    assert.notEqual(
      sharedRateBudget({ ...account, integrationKey: 'DIOTHERKEYOTHERKEY01' }, '/admin/v1/users', 150),
      users,
    );
    sharedRateBudget(account, '/admin/v1/users', 300);
    assert.equal(users.requestsPerMinute, 300);
  });

  it('hands out slots in arrival order and gives an aborted wait back', async () => {
    const budget = new RateBudget(600); // a slot every 100 ms
    await budget.take(); // the first slot is free
    const controller = new AbortController();
    const cancelled = budget.take(controller.signal);
    controller.abort(new Error('cancelled'));
    await assert.rejects(cancelled, /cancelled/);
    // Had the cancelled slot been lost, the next caller would wait 200 ms, after the 150 ms mark.
    const order: string[] = [];
    const mark = new Promise<void>((resolve) =>
      setTimeout(() => {
        order.push('150 ms');
        resolve();
      }, 150),
    );
    await Promise.all([
      budget.take().then(() => order.push('first')),
      budget.take().then(() => order.push('second')),
      mark,
    ]);
    assert.deepEqual(order, ['first', '150 ms', 'second']);
  });

  it('reads DUO_REQUESTS_PER_MINUTE strictly', () => {
    assert.equal(parseRequestsPerMinute(undefined), 150);
    assert.equal(parseRequestsPerMinute(' '), 150);
    assert.equal(parseRequestsPerMinute('90'), 90);
    assert.throws(
      () => parseRequestsPerMinute('fast'),
      (error: unknown) => {
        assert.ok(error instanceof DuoConfigurationError);
        assert.equal(error.setting, 'DUO_REQUESTS_PER_MINUTE');
        return true;
      },
    );
    assert.throws(() => parseRequestsPerMinute('0'), DuoConfigurationError);
  });
});
