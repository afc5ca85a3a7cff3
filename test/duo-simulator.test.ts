import assert from 'node:assert/strict';
import { request } from 'undici';
import {
  DuoClient,
  canonicalizeParams,
  computeDuoSignature,
  duoAuthorizationHeader,
  formatDuoDate,
  type DuoParams,
} from '../src/duo';
import {
  decodeDuoFormParams,
  generateTenant,
  runDuoSimulatorCli,
  startDuoSimulator,
  type DuoSimulator,
} from '../src/simulators/duo';
import { stopAtEnd } from './harness/root-hooks';
import { listAll } from './harness/duo';

describe('Duo simulator', () => {
  let simulator: DuoSimulator;

  before(async () => {
    simulator = await startDuoSimulator({ users: 30, seed: 13 });
    stopAtEnd(() => simulator.close());
  });
  beforeEach(() => {
    simulator.clearRequestLog();
    simulator.setFaults({});
  });

  /** A correctly signed GET; returns status, headers and the raw body text. */
  async function get(path: string, params: DuoParams = []) {
    const date = formatDuoDate(new Date());
    const query = canonicalizeParams(params);
    const response = await request(`${simulator.url}${path}${query ? `?${query}` : ''}`, {
      headers: {
        date,
        authorization: duoAuthorizationHeader(
          simulator.integrationKey,
          computeDuoSignature('v5', simulator.secretKey, {
            method: 'GET',
            host: simulator.apiHostname,
            path,
            params,
            date,
          }),
        ),
      },
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  it('answers in Duo’s envelopes: compact success, spaced errors', async () => {
    const settings = await get('/admin/v1/settings');
    assert.equal(settings.status, 200);
    assert.equal(settings.headers['content-type'], 'application/json');
    assert.ok(settings.text.startsWith('{"response":{'));
    assert.ok(settings.text.endsWith('"stat":"OK"}'));

    const page = await get('/admin/v1/users', [
      ['limit', '10'],
      ['offset', '10'],
    ]);
    const body = JSON.parse(page.text) as { metadata: object; response: unknown[] };
    assert.deepEqual(body.metadata, { next_offset: 20, prev_offset: 0, total_objects: 30 });
    assert.equal(body.response.length, 10);
    const last = JSON.parse((await get('/admin/v1/users', [['offset', '20']])).text) as { metadata: object };
    assert.deepEqual(last.metadata, { prev_offset: 0, total_objects: 30 });

    const missing = await get('/admin/v1/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, '{"code": 40401, "message": "Resource not found", "stat": "FAIL"}');
  });

  it('rejects invalid paging parameters with 40002 naming the parameter', async () => {
    const badLimit = await get('/admin/v1/users', [['limit', 'lots']]);
    assert.equal(badLimit.status, 400);
    assert.deepEqual(JSON.parse(badLimit.text), {
      code: 40002,
      message: 'Invalid request parameters',
      message_detail: 'limit',
      stat: 'FAIL',
    });
    const badOffset = await get('/admin/v1/phones', [['offset', '-1']]);
    assert.equal(JSON.parse(badOffset.text).message_detail, 'offset');
  });

  it('looks single records up by id, and never serves integration secret keys by path', async () => {
    const user = simulator.tenant.users[4]!;
    const found = await get(`/admin/v1/users/${user.user_id}`);
    assert.deepEqual(JSON.parse(found.text), { response: user, stat: 'OK' });
    const unknown = await get('/admin/v1/users/DUNOSUCHUSER00000000');
    assert.deepEqual([unknown.status, JSON.parse(unknown.text).code], [404, 40401]);
    const integrationKey = simulator.tenant.integrations[0]!.integration_key;
    const secret = await get(`/admin/v1/integrations/${integrationKey}/skey`);
    assert.equal(secret.status, 404);
    assert.ok(!secret.text.includes(simulator.tenant.integrations[0]!.secret_key!));
  });

  it('rate-limits per key and endpoint with 429/42901 and no Retry-After', async () => {
    simulator.setRateLimit(60, 2);
    try {
      const statuses: number[] = [];
      let refused: Awaited<ReturnType<typeof get>> | undefined;
      for (let i = 0; i < 4; i++) {
        const answer = await get('/admin/v1/groups');
        statuses.push(answer.status);
        if (answer.status === 429) refused = answer;
      }
      assert.deepEqual(statuses, [200, 200, 429, 429]);
      assert.equal(refused!.text, '{"code": 42901, "message": "Too Many Requests", "stat": "FAIL"}');
      assert.equal(refused!.headers['retry-after'], undefined);
      // Another endpoint has its own bucket, and so has another key.
      assert.equal((await get('/admin/v1/admins')).status, 200);
      const other = simulator.addIntegrationKey();
      const client = new DuoClient({
        ...simulator.clientOptions,
        ...other,
        requestsPerMinute: 60_000,
        logger: () => {},
      });
      assert.equal((await listAll(client, 'groups')).length, simulator.tenant.groups.length);
    } finally {
      simulator.setRateLimit(undefined);
    }
  });

  it('logs each request with its paging parameters, status and key, never credentials', async () => {
    const client = new DuoClient({ ...simulator.clientOptions, requestsPerMinute: 60_000, logger: () => {} });
    await listAll(client, 'users', { pageSize: 12 });
    assert.deepEqual(
      simulator.requestLog.map((entry) => [entry.path, entry.offset, entry.limit, entry.status, entry.records]),
      [
        ['/admin/v1/users', 0, 12, 200, 12],
        ['/admin/v1/users', 12, 12, 200, 12],
        ['/admin/v1/users', 24, 12, 200, 6],
      ],
    );
    const [first] = simulator.requestLog;
    assert.equal(first!.integrationKey, simulator.integrationKey);
    assert.equal(first!.signatureVersion, 'v5');
    assert.deepEqual(first!.params, { limit: '12', offset: '0' });
    const serialised = JSON.stringify(simulator.requestLog);
    assert.ok(!serialised.includes(simulator.secretKey));
    assert.doesNotMatch(serialised, /[0-9a-f]{128}/);
  });

  it('serves a replacement tenant, but only for the same API hostname', async () => {
    const next = generateTenant({ users: 4, seed: 13 });
    simulator.setTenant({ ...next, apiHostname: simulator.apiHostname });
    try {
      const client = new DuoClient({ ...simulator.clientOptions, requestsPerMinute: 60_000, logger: () => {} });
      assert.deepEqual(
        (await listAll(client, 'users')).map((user) => user.user_id),
        next.users.map((user) => user.user_id),
      );
      assert.throws(() => simulator.setTenant(generateTenant({ users: 1, seed: 99 })), /apiHostname must stay/);
    } finally {
      simulator.setTenant(generateTenant({ users: 30, seed: 13 }));
    }
  });

  it('decodes form-encoded parameters the way Duo does', () => {
    assert.deepEqual(decodeDuoFormParams('b=2&a=x+y%40z&flag&=v&c=%E2%9C%93'), [
      ['b', '2'],
      ['a', 'x y@z'],
      ['flag', ''],
      ['', 'v'],
      ['c', '✓'],
    ]);
    assert.throws(() => decodeDuoFormParams('a=%zz'), URIError);
  });

  it('runs from the CLI runner, announcing itself in one JSON line', async () => {
    const lines: string[] = [];
    const running = await runDuoSimulatorCli(
      { users: 12, seed: 4, latencyMs: 1 },
      { write: (text) => lines.push(text) },
    );
    stopAtEnd(() => running.close());
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n'));
    const announced = JSON.parse(lines[0]!) as Record<string, string>;
    assert.deepEqual(Object.keys(announced), ['url', 'apiHostname', 'integrationKey', 'secretKey']);
    assert.match(announced.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(announced.apiHostname, generateTenant({ users: 12, seed: 4 }).apiHostname);
    const client = new DuoClient({
      apiHostname: announced.apiHostname!,
      integrationKey: announced.integrationKey!,
      secretKey: announced.secretKey!,
      insecureBaseUrl: announced.url,
      logger: () => {},
    });
    assert.equal((await listAll(client, 'users')).length, 12);
  });
});
