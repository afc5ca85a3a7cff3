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

/**
 * What one fetch stage does: every resource in parallel; returns the ids read per endpoint.
 * `onPage` is called as each page is handed on, once its answer has reached the budget.
 */
async function fetchEverything(
  client: DuoClient,
  pageSize?: number,
  onPage?: (name: DuoListEndpointName) => void,
): Promise<Map<DuoListEndpointName, string[]>> {
  const ids = new Map<DuoListEndpointName, string[]>();
  await Promise.all([
    client.getObject('settings'),
    client.getObject('infoSummary'),
    ...LIST_ENDPOINTS.map(async (name) => {
      const idField = DUO_LIST_ENDPOINTS[name].idField;
      const read: string[] = [];
      for await (const page of client.pages(name, { pageSize })) {
        read.push(...page.records.map((record) => String((record as Record<string, unknown>)[idField])));
        onPage?.(name);
      }
      ids.set(name, read);
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

  it('is what keeps 429s away: the same limit refuses a client whose budget is far above it', async () => {
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
    // Until its budget has learned the limit.
    assert.ok(rateLimited.length >= 3, `only ${rateLimited.length} of ${simulator.requestLog.length} were 429`);
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

  it('shares one budget per account and endpoint, and lets a new setting replace the old', () => {
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
    // The setting removed: the budget keeps what it had and adapts from there, uncapped.
    sharedRateBudget(account, '/admin/v1/users', undefined);
    assert.equal(users.requestsPerMinute, 300);
    assert.equal(users.cap, undefined);
  });

  it('hands out slots in arrival order and gives an aborted wait back', async () => {
    // 120 a minute: a slot every 500 ms, without a burst (Duo's would be two; one is left as room).
    const budget = new RateBudget(120);
    await budget.take();
    await budget.take(); // 500 ms later
    const controller = new AbortController();
    const cancelled = budget.take(controller.signal);
    controller.abort(new Error('cancelled'));
    await assert.rejects(cancelled, /cancelled/);
    // Had the cancelled slot been lost, the next caller would wait 1,000 ms, after the 750 ms mark.
    const order: string[] = [];
    const mark = new Promise<void>((resolve) =>
      setTimeout(() => {
        order.push('750 ms');
        resolve();
      }, 750),
    );
    await Promise.all([
      budget.take().then(() => order.push('first')),
      budget.take().then(() => order.push('second')),
      mark,
    ]);
    assert.deepEqual(order, ['first', '750 ms', 'second']);
  });

  it('takes Duo’s burst but one request at Duo’s rate, set or not, and none for logs', async () => {
    /** Which of four requests asked for at once the budget lets through without waiting. */
    const sentAtOnce = async (budget: RateBudget) => {
      const slots = await Promise.all([budget.take(), budget.take(), budget.take(), budget.take()]);
      return slots.map((slot) => !slot.heldBack);
    };
    // Duo's bucket holds 4 at 200 a minute: 3 go at once, and the token left is the network's room.
    assert.deepEqual(await sentAtOnce(new RateBudget(200)), [true, true, true, false], 'set to Duo’s rate');
    assert.deepEqual(await sentAtOnce(new RateBudget(undefined, 200)), [true, true, true, false], 'unset');
    // Under 250 ms between requests, a burst of Duo's 4 leaves too little room: evenly spaced.
    assert.deepEqual(await sentAtOnce(new RateBudget(600, 200)), [true, false, false, false], '600 a minute');
    // A log budget (Duo's published log rate, one a minute) never bursts, whatever its setting.
    assert.deepEqual(await sentAtOnce(new RateBudget(6000, 1)), [true, false, false, false], 'a log budget');
  });

  it('at Duo’s own limit and burst, a budget set to it uses the burst and is never answered 429', async () => {
    // Duo's story at its real pace: 200 a minute per endpoint, a burst of one second's worth (4).
    const simulator = await startDuoSimulator({ users: 60, requestsPerMinute: 200 });
    stopAtEnd(() => simulator.close());
    const client = clientFor(simulator, { requestsPerMinute: 200 });
    // A validation's request just before the fetch takes a token of Duo's bucket, as in a run.
    await client.pages('users', { pageSize: 1 })[Symbol.asyncIterator]().next();
    let pages = 0;
    for await (const _page of client.pages('users', { pageSize: 10 })) pages += 1;
    assert.equal(pages, 6);
    const users = simulator.requestLog.filter((entry) => entry.path === '/admin/v1/users');
    assert.deepEqual(
      users.map((entry) => entry.status),
      Array.from({ length: 7 }, () => 200),
    );
    // The validation and the first two pages go at once; evenly spaced, they would span 600 ms.
    const burstMs = users[2]!.at - users[0]!.at;
    assert.ok(burstMs < 450, `the first three requests spanned ${burstMs} ms`);

    // The log endpoints of the same client, at the same rate, go one request every 300 ms.
    const logClient = clientFor(simulator, { logRequestsPerMinute: 200 });
    const window = { mintime: Date.now() - 86_400_000, maxtime: Date.now() - 180_000 };
    for (let i = 0; i < 3; i++) await logClient.authenticationLogPage(window, { limit: 1000 });
    const logs = simulator.requestLog.filter((entry) => entry.path === '/admin/v2/logs/authentication');
    assert.equal(logs.length, 3);
    for (let i = 1; i < logs.length; i++) {
      const gap = logs[i]!.at - logs[i - 1]!.at;
      assert.ok(gap >= 250, `log requests ${i - 1} and ${i} went ${gap} ms apart`);
    }
  });

  it('reads DUO_REQUESTS_PER_MINUTE strictly; unset, the budget adapts', () => {
    assert.equal(parseRequestsPerMinute(undefined), undefined);
    assert.equal(parseRequestsPerMinute(' '), undefined);
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

describe('Duo rate budget at default settings (no DUO_REQUESTS_PER_MINUTE)', () => {
  // Duo's story (published 200 a minute, a burst of one second's worth) played fifteen times faster
  // so that it takes seconds: published 3,000 a minute, a burst of 50. Small pages make a few
  // hundred requests of the two big endpoints.
  const tenant = generateTenant({ users: 2400, seed: 22 });
  const published = 3000;
  const burst = 50;
  const pageSize = 16;

  function adaptiveClient(simulator: DuoSimulator, options: Partial<DuoClientOptions> = {}): DuoClient {
    return new DuoClient({
      ...simulator.clientOptions,
      publishedRequestsPerMinute: published,
      rateLimitBackoffMs: [5, 10, 20, 40, 80, 160, 320, 640],
      retryJitterMs: 5,
      logger: () => {},
      ...options,
    });
  }

  const usersBudget = (simulator: DuoSimulator, integrationKey = simulator.clientOptions.integrationKey) =>
    sharedRateBudget({ apiHostname: simulator.apiHostname, integrationKey }, '/admin/v1/users', undefined, published);

  /**
   * One run's fetch at default settings. Besides the 429s, it reports the users budget as the run
   * found it, and the highest rate it reached, read after every users page (a probe that Duo
   * refused at once may rise and fall between two pages; after a 429 the rate rises only a tenth per
   * minute's worth of answers, which these runs of a few hundred requests do not reach).
   */
  async function fetchAdaptively(simulator: DuoSimulator): Promise<{
    requests: number;
    refused: number;
    mostRefusedOnOneEndpoint: number;
    usersRateAtStart: number;
    usersProbingAtStart: boolean;
    highestUsersRate: number;
  }> {
    simulator.clearRequestLog();
    const client = adaptiveClient(simulator);
    assert.equal(client.requestsPerMinute, undefined, 'no setting: the budget adapts');
    const usersRateAtStart = usersBudget(simulator).requestsPerMinute;
    const usersProbingAtStart = usersBudget(simulator).probing;
    let highestUsersRate = usersRateAtStart;
    const ids = await fetchEverything(client, pageSize, (name) => {
      if (name === 'users') highestUsersRate = Math.max(highestUsersRate, usersBudget(simulator).requestsPerMinute);
    });
    assertEverythingOnce(simulator, ids);
    const requests = simulator.requestLog.length;
    assert.ok(requests > 300, `expected several hundred requests, saw ${requests}`);
    const refusedByPath = new Map<string, number>();
    for (const entry of simulator.requestLog) {
      if (entry.status === 429) refusedByPath.set(entry.path, (refusedByPath.get(entry.path) ?? 0) + 1);
    }
    return {
      requests,
      refused: [...refusedByPath.values()].reduce((sum, count) => sum + count, 0),
      mostRefusedOnOneEndpoint: Math.max(0, ...refusedByPath.values()),
      usersRateAtStart,
      usersProbingAtStart,
      highestUsersRate,
    };
  }

  /**
   * The next run of the account (a new client, as each run's activities make) starts at the rate
   * learned, does not probe, never goes past it, and is answered 429 less than 1 % of the time.
   */
  async function assertNextRunStartsAt(simulator: DuoSimulator, learned: number): Promise<void> {
    const second = await fetchAdaptively(simulator);
    assert.equal(second.usersRateAtStart, learned);
    assert.equal(second.usersProbingAtStart, false);
    assert.ok(
      second.highestUsersRate <= learned,
      `second run probed to ${second.highestUsersRate}/min from ${learned}`,
    );
    assert.ok(second.refused / second.requests < 0.01, `${second.refused} of ${second.requests} answered 429`);
  }

  it('probes past the published rate, settles at Duo’s limit with under 1% 429s, and the next run starts there', async () => {
    const simulator = await startDuoSimulator({ tenant, requestsPerMinute: published, rateLimitBurst: burst });
    stopAtEnd(() => simulator.close());
    assert.equal(usersBudget(simulator).requestsPerMinute, published, 'a new account starts at the published rate');

    const first = await fetchAdaptively(simulator);
    assert.ok(first.refused / first.requests < 0.01, `${first.refused} of ${first.requests} answered 429`);
    assert.ok(first.refused >= 1, 'a new account probes until Duo first refuses');
    assert.equal(usersBudget(simulator).probing, false, 'Duo refused the users probe');
    const learned = usersBudget(simulator).requestsPerMinute;
    assert.ok(learned <= published && learned > 0.7 * published, `users budget: ${learned}/min against ${published}`);

    // The next run of this account (a new client, as each run's activities make) knows: it starts at
    // the rate learned and never probes past it. (Its 429s alone cannot tell: a loaded host's jitter
    // can cost a run at Duo's exact limit as many as the first run's probe did.)
    await assertNextRunStartsAt(simulator, learned);

    // Another account (here another integration key) has budgets of its own.
    const other = simulator.addIntegrationKey();
    assert.equal(usersBudget(simulator, other.integrationKey).requestsPerMinute, published);
    assert.equal(usersBudget(simulator, other.integrationKey).probing, true);
  });

  it('adapts down to a limit under the published rate, measuring what Duo admits', async () => {
    const limit = published / 2;
    const simulator = await startDuoSimulator({ tenant, requestsPerMinute: limit, rateLimitBurst: burst / 2 });
    stopAtEnd(() => simulator.close());
    const first = await fetchAdaptively(simulator);
    // Each endpoint learns on its own (Duo limits each one): a few 429s each, however many endpoints
    // the fetch reads, and a small share of the whole.
    assert.ok(first.mostRefusedOnOneEndpoint <= 3, `${first.mostRefusedOnOneEndpoint} 429s on one endpoint`);
    assert.ok(first.refused / first.requests < 0.025, `${first.refused} of ${first.requests} answered 429`);
    const learned = usersBudget(simulator).requestsPerMinute;
    // Measured from below, in steps of a quarter at most: close to the limit, whichever side.
    assert.ok(learned < 1.1 * limit && learned > 0.7 * limit, `users budget: ${learned}/min against ${limit}`);
    // The next run starts at the rate learned, not at the published one, and does not probe.
    await assertNextRunStartsAt(simulator, learned);
  });

  it('reads an unthrottled Duo as fast as it answers, without a single 429', async () => {
    const simulator = await startDuoSimulator({ tenant, latencyMs: 2 });
    stopAtEnd(() => simulator.close());
    await fetchAdaptively(simulator);
    assert.equal(simulator.requestLog.filter((entry) => entry.status === 429).length, 0);
    // Raised past the published rate, which would have held the 150 user pages back for 3 s.
    assert.ok(usersBudget(simulator).requestsPerMinute > 2 * published);
  });

  it('never goes past an explicit setting, even where Duo does not throttle', async () => {
    const simulator = await startDuoSimulator({ tenant });
    stopAtEnd(() => simulator.close());
    const client = adaptiveClient(simulator, { requestsPerMinute: 600, publishedRequestsPerMinute: undefined });
    let pages = 0;
    for await (const _page of client.pages('users', { pageSize })) if (++pages === 30) break;
    assert.equal(usersBudget(simulator).requestsPerMinute, 600);
    // One request every 100 ms: at 600 a minute, Duo's burst of 4 less 250 ms of room leaves none.
    const users = simulator.requestLog.filter((entry) => entry.path === '/admin/v1/users');
    const seconds = (users.at(-1)!.at - users[0]!.at) / 1000;
    assert.ok(seconds >= (30 - 1) * 0.1 * 0.95, `30 pages in ${seconds.toFixed(2)} s: faster than 600 a minute`);
  });

  it('slows down on 429 to the rate Duo admits, and finds its way back up a tenth per quiet minute', () => {
    const budget = new RateBudget(undefined, 200);
    const slot = (offsetMs = 0, pressing = true) => ({ at: Date.now() + offsetMs, heldBack: pressing, pressing });
    for (let i = 0; i < 4; i++) budget.answered(slot());
    assert.equal(Math.round(budget.requestsPerMinute), Math.round(200 * 1.25 ** 4), 'probing: a quarter per answer');
    budget.answered(slot(0, false));
    assert.equal(Math.round(budget.requestsPerMinute), 488, 'a request that found the bucket full says nothing');

    // The first 429 after the probe went past the published rate: back to it.
    assert.equal(budget.refused(slot()), 200);
    // A request sent before that 429 and refused after it changes nothing more.
    assert.equal(budget.refused(slot(-1000)), undefined);
    // The next 429 comes too soon after the first to measure anything: a tenth off.
    const lowered = budget.refused(slot(1))!;
    assert.equal(lowered, 180);

    // Up again: a tenth after each minute's worth of answered requests, no faster.
    for (let i = 1; i < Math.ceil(lowered); i++) budget.answered(slot());
    assert.equal(budget.requestsPerMinute, lowered);
    budget.answered(slot());
    assert.equal(Math.round(budget.requestsPerMinute), Math.round(lowered * 1.1));
  });

  it('waits out a Retry-After for every request of the endpoint, should Duo send one', async () => {
    const simulator = await startDuoSimulator({
      tenant,
      requestsPerMinute: 60,
      rateLimitBurst: 1,
      rateLimitRetryAfter: true,
    });
    stopAtEnd(() => simulator.close());
    let pages = 0;
    for await (const _page of adaptiveClient(simulator).pages('users', { pageSize: 1 })) if (++pages === 4) break;
    const log = simulator.requestLog.filter((entry) => entry.path === '/admin/v1/users');
    const refused = log.filter((entry) => entry.status === 429);
    assert.ok(refused.length >= 1 && refused.length < 4, `${refused.length} of ${log.length} answered 429`);
    for (const entry of refused) {
      const next = log[log.indexOf(entry) + 1]!;
      // The backoff alone would have retried after 5 ms.
      assert.ok(next.at - entry.at >= 950, `retried ${next.at - entry.at} ms after a 429 that said 1 s`);
    }
  });
});
