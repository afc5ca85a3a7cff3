import assert from 'node:assert/strict';
import { request } from 'undici';
import {
  DuoAuthenticationError,
  DuoClient,
  canonicalizeParams,
  computeDuoSignature,
  duoAuthorizationHeader,
  encodeDuoComponent,
  formatDuoDate,
  hashDuoHeaders,
  signDuoRequest,
  type DuoParams,
  type DuoSignatureVersion,
} from '../src/duo';
import { startDuoSimulator, type DuoSimulator } from '../src/simulators/duo';
import { stopAtEnd } from './harness/root-hooks';
import { listAll } from './harness/duo';

describe('Duo request signing', () => {
  describe('known answers (reference §1.9)', () => {
    const ikey = 'DIXXXXXXXXXXXXXXXXXX';
    const skey = 'simulatorsecretkeysimulatorsecretkey0000';
    const usersRequest = {
      method: 'GET',
      host: 'api-deadbeef.duosecurity.com',
      path: '/admin/v1/users',
      params: [
        ['username', 'jane doe@example.com'],
        ['limit', '300'],
        ['offset', '0'],
      ] as DuoParams,
      date: 'Mon, 05 Jan 2026 10:00:00 -0000',
    };

    it('canonicalises parameters: encoded, sorted, %20 for spaces', () => {
      assert.equal(canonicalizeParams(usersRequest.params), 'limit=300&offset=0&username=jane%20doe%40example.com');
      assert.equal(
        canonicalizeParams([
          ['foo_bar', '2'],
          ['foo', '1'],
        ]),
        'foo=1&foo_bar=2',
      );
      assert.equal(
        canonicalizeParams([
          ['a', 'z'],
          ['a', 'b'],
        ]),
        'a=b&a=z',
      );
      assert.equal(canonicalizeParams([]), '');
    });

    it("encodes punctuation and whitespace like Duo's official encoder vector", () => {
      assert.equal(
        encodeDuoComponent('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'),
        '%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~',
      );
      assert.equal(encodeDuoComponent('\t\n\x0b\x0c\r '), '%09%0A%0B%0C%0D%20');
      assert.equal(encodeDuoComponent('Zoë'), 'Zo%C3%AB');
    });

    it('formats RFC 2822 dates in the -0000 form', () => {
      assert.equal(formatDuoDate(new Date(Date.UTC(2026, 0, 5, 10, 0, 0))), 'Mon, 05 Jan 2026 10:00:00 -0000');
      assert.equal(formatDuoDate(new Date(Date.UTC(2012, 7, 21, 17, 29, 18))), 'Tue, 21 Aug 2012 17:29:18 -0000');
    });

    it('v2 with HMAC-SHA1 (vector A) and its Authorization header', () => {
      assert.equal(computeDuoSignature('v2-sha1', skey, usersRequest), '2df7e06199230b89b2155be6c209efe9d855894e');
      assert.equal(
        signDuoRequest('v2-sha1', { integrationKey: ikey, secretKey: skey }, usersRequest),
        'Basic RElYWFhYWFhYWFhYWFhYWFhYWFg6MmRmN2UwNjE5OTIzMGI4OWIyMTU1YmU2YzIwOWVmZTlkODU1ODk0ZQ==',
      );
    });

    it('v2 with HMAC-SHA512 (vector B)', () => {
      assert.equal(
        computeDuoSignature('v2-sha512', skey, usersRequest),
        'af47af48d0fc117f6da3f346611c74a69770ab03ef57e6e1be8570377c8747c6bf70dd05a6ce7cf934fe7e43c29a92551111dc382e0e5bfb063c17f84e8ce9a9',
      );
    });

    it('v5 without and with X-Duo-Date (vectors C, D) and with a JSON body (vector E)', () => {
      assert.equal(
        computeDuoSignature('v5', skey, usersRequest),
        'f5a4525f11860d931f475eca205e841f2f824a5462234c8e80495dde4b786af1500882f3276594c7ca9dc78465ccb67e7be69eca6248706b76519bd94013a4bb',
      );
      const duoHeaders = { 'X-Duo-Date': usersRequest.date };
      assert.equal(
        hashDuoHeaders(duoHeaders),
        'd1b496ee184ff809b627b8fcf5aa30ce91c0ff746d4a7dc02b900e110d3c8adf5f5cfe15dc8f463e7ae31e0411a748896fc859a2ffb0eed074bf5c5736b3c405',
      );
      assert.equal(
        computeDuoSignature('v5', skey, { ...usersRequest, duoHeaders }),
        'ca5df98725f87dcf3c6f4ccb517317b568aa1d389e7edd836f5db091d6ffa4f57fc4599f269d727105ff4c350a7f5f88ff712353cc44ade055e0b640b1a72397',
      );
      assert.equal(
        computeDuoSignature('v5', skey, { ...usersRequest, method: 'POST', params: [], body: '{"username":"jdoe"}' }),
        '1afceb7723cb01c03b49d3ac5069dfdc9dcae3536c8be61cc9cf18237e36df01fb67a0b651604dfc7e5463334c5a7aada1eb8bc3d572c565338e2ac07650e124',
      );
    });

    it('matches the official Go and duo_hmac vectors', () => {
      const goRequest = {
        method: 'POST',
        host: 'api-XXXXXXXX.duosecurity.com',
        path: '/accounts/v1/account/list',
        date: 'Tue, 21 Aug 2012 17:29:18 -0000',
        params: [
          ['realname', 'First Last'],
          ['username', 'root'],
        ] as DuoParams,
      };
      const goSecret = 'Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep';
      assert.equal(
        computeDuoSignature('v2-sha512', goSecret, goRequest),
        '1bffb8924348f7db7da9e7d7d749ded93aafd02d8e904960da7b96c57510220185a64a2827ee8f24ac5d30802a9ee97e59de44b304b18242f0d596d15a8122af',
      );
      assert.equal(computeDuoSignature('v2-sha1', goSecret, goRequest), '2d97d6166319781b5a3a07af39d366f491234edc');
      assert.equal(
        computeDuoSignature('v5', goSecret, {
          ...goRequest,
          params: [['realname', 'First Last']],
          body: '{"txid":"f22b1678-252a-4070-b176-0ca2be7319fd"}',
        }),
        '78f4327f831173cc78d0907e913e3c5a28fe72dd4545a342586bb67181f2ba393d20911e870362f6faba3dc6f7e9db5e93aed2f3bfc110c6dadaff4dc6179e0b',
      );
      const date = 'Fri, 24 May 2024 12:00:00 -0000';
      assert.equal(
        computeDuoSignature('v5', 'testtesttesttesttesttesttesttesttesttest', {
          method: 'GET',
          host: 'api-xxxxxxxx.duosecurity.com',
          path: '/api/path',
          params: [],
          date,
          duoHeaders: { 'x-duo-date': date },
        }),
        'c454639d75b4e3d99b8b1d5e41cd7bb2d2d8ba55f6811f786dfb0edd4facd2f3a5e6d6c837f31f6826706325b4ed7dcdc5f11164948e57a7032a524990e01583',
      );
    });
  });

  describe('simulator verification', () => {
    let simulator: DuoSimulator;

    before(async () => {
      simulator = await startDuoSimulator({ users: 40, seed: 11 });
      stopAtEnd(() => simulator.close());
    });
    beforeEach(() => simulator.clearRequestLog());

    /** Sends a hand-signed GET, so each part of the signature can be tampered with separately. */
    async function sendSigned(options: {
      path?: string;
      wireQuery?: string;
      signedParams?: DuoParams;
      version?: DuoSignatureVersion;
      date?: string;
      signedHost?: string;
      secretKey?: string;
      integrationKey?: string;
      headers?: Record<string, string>;
      xDuoDate?: boolean;
    }) {
      const path = options.path ?? '/admin/v1/users';
      const signedParams = options.signedParams ?? [
        ['limit', '5'],
        ['offset', '0'],
      ];
      const date = options.date ?? formatDuoDate(new Date());
      const duoHeaders: Record<string, string> = options.xDuoDate ? { 'x-duo-date': date } : {};
      const authorization = duoAuthorizationHeader(
        options.integrationKey ?? simulator.integrationKey,
        computeDuoSignature(options.version ?? 'v5', options.secretKey ?? simulator.secretKey, {
          method: 'GET',
          host: options.signedHost ?? simulator.apiHostname,
          path,
          params: signedParams,
          date,
          duoHeaders,
        }),
      );
      const query = options.wireQuery ?? canonicalizeParams(signedParams);
      const response = await request(`${simulator.url}${path}${query === undefined ? '' : `?${query}`}`, {
        headers: {
          authorization,
          ...(options.xDuoDate ? duoHeaders : { date }),
          ...options.headers,
        },
      });
      const body = (await response.body.json()) as { stat: string; code?: number; response?: unknown[] };
      return { status: response.statusCode, body, logged: simulator.requestLog.at(-1)! };
    }

    for (const version of ['v5', 'v2-sha512', 'v2-sha1'] as const) {
      it(`accepts the client signing with ${version}, on every endpoint`, async () => {
        const client = new DuoClient({
          ...simulator.clientOptions,
          signatureVersion: version,
          requestsPerMinute: 60_000,
          logger: () => {},
        });
        const settings = await client.getObject('settings');
        assert.equal(settings.name, simulator.tenant.settings.name);
        const users = await listAll(client, 'users', { pageSize: 7 });
        assert.equal(users.length, simulator.tenant.users.length);
        await listAll(client, 'integrations');
        await listAll(client, 'policies');
        assert.deepEqual(await client.getObject('policySummary'), simulator.tenant.policySummary);
        const usersRequests = simulator.requestLog.filter((entry) => entry.path === '/admin/v1/users');
        assert.ok(usersRequests.length >= 6);
        assert.ok(usersRequests.every((entry) => entry.status === 200 && entry.signatureVersion === version));
        // Duo accepts only v5 on the v3 integrations handler, so the client signs it with v5 regardless.
        const integrationRequests = simulator.requestLog.filter((entry) => entry.path === '/admin/v3/integrations');
        assert.ok(integrationRequests.length > 0);
        assert.ok(integrationRequests.every((entry) => entry.status === 200 && entry.signatureVersion === 'v5'));
        // Policies v2 likewise: Duo's clients sign every policy call with v5.
        const policyRequests = simulator.requestLog.filter((entry) => entry.path.startsWith('/admin/v2/policies'));
        assert.ok(policyRequests.some((entry) => entry.path === '/admin/v2/policies/summary'));
        assert.ok(policyRequests.length > 1);
        assert.ok(policyRequests.every((entry) => entry.status === 200 && entry.signatureVersion === 'v5'));
      });
    }

    it("accepts Python-style wire queries: unsorted, '+' for spaces, a bare '?'", async () => {
      const unsorted = await sendSigned({
        signedParams: [
          ['offset', '0'],
          ['limit', '2'],
          ['username', 'jane doe@example.com'],
        ],
        wireQuery: 'username=jane+doe%40example.com&limit=2&offset=0',
      });
      assert.equal(unsorted.status, 200);
      assert.deepEqual(unsorted.logged.params, { username: 'jane doe@example.com', limit: '2', offset: '0' });
      const bare = await sendSigned({ path: '/admin/v1/settings', signedParams: [], wireQuery: '' });
      assert.equal(bare.status, 200);
    });

    it('takes the date from X-Duo-Date over Date, and hashes it into v5 line 7', async () => {
      for (const version of ['v5', 'v2-sha512', 'v2-sha1'] as const) {
        const result = await sendSigned({
          version,
          xDuoDate: true,
          // A Date header that disagrees must be ignored when X-Duo-Date is present.
          headers: { date: 'Thu, 01 Jan 2015 00:00:00 -0000' },
        });
        assert.equal(result.status, 200, `${version} with X-Duo-Date`);
        assert.equal(result.logged.signatureVersion, version);
      }
    });

    it('rejects a wrong secret key with 40103', async () => {
      const result = await sendSigned({ secretKey: 'wrongwrongwrongwrongwrongwrongwrongwrong' });
      assert.deepEqual([result.status, result.body.code, result.logged.reason], [401, 40103, 'bad-signature']);
    });

    it('rejects a parameter changed after signing with 40103', async () => {
      const result = await sendSigned({
        signedParams: [
          ['limit', '5'],
          ['offset', '0'],
        ],
        wireQuery: 'limit=6&offset=0',
      });
      assert.deepEqual([result.status, result.body.code, result.logged.reason], [401, 40103, 'bad-signature']);
    });

    it('rejects a signature for a different host with 40103', async () => {
      const result = await sendSigned({ signedHost: 'api-00000000.duosecurity.com' });
      assert.deepEqual([result.status, result.body.code, result.logged.reason], [401, 40103, 'bad-signature']);
    });

    it('rejects a stale date with 40103', async () => {
      const result = await sendSigned({ date: formatDuoDate(new Date(Date.now() - 15 * 60_000)) });
      assert.deepEqual([result.status, result.body.code, result.logged.reason], [401, 40103, 'stale-date']);
    });

    it('rejects an unknown integration key with 40102 and missing credentials with 40101', async () => {
      const unknown = await sendSigned({ integrationKey: 'DINOTAKEYNOTAKEYNOTA' });
      assert.deepEqual([unknown.status, unknown.body.code], [401, 40102]);
      const response = await request(`${simulator.url}/admin/v1/settings`);
      const body = (await response.body.json()) as { code: number; stat: string };
      assert.deepEqual([response.statusCode, body.code, body.stat], [401, 40101, 'FAIL']);
    });

    it('rejects v2 signatures on the v3 integrations and v2 policies handlers', async () => {
      for (const path of ['/admin/v3/integrations', '/admin/v2/policies', '/admin/v2/policies/summary']) {
        const result = await sendSigned({ path, version: 'v2-sha512' });
        assert.deepEqual([result.status, result.body.code, result.logged.reason], [401, 40103, 'v5-required'], path);
      }
    });

    it('surfaces a rejected signature as a non-retryable DuoAuthenticationError, asked once', async () => {
      const client = new DuoClient({
        ...simulator.clientOptions,
        secretKey: 'wrongwrongwrongwrongwrongwrongwrongwrong',
        transientRetryBackoffMs: [1],
        logger: () => {},
      });
      const error = await client.getObject('settings').then(
        () => assert.fail('expected a rejection'),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DuoAuthenticationError);
      assert.equal(error.code, 40103);
      assert.equal(error.retryable, false);
      assert.match(error.message, /DUO_SECRET_KEY/);
      assert.equal(simulator.requestLog.length, 1);
    });

    it('signs every retry again with a fresh date', async () => {
      simulator.setFaults({ endpointErrors: { '/admin/v1/settings': { status: 500, code: 50001, times: 1 } } });
      try {
        const client = new DuoClient({
          ...simulator.clientOptions,
          transientRetryBackoffMs: [1100],
          retryJitterMs: 0,
          logger: () => {},
        });
        await client.getObject('settings');
      } finally {
        simulator.setFaults({});
      }
      const [failed, retried] = simulator.requestLog;
      assert.equal(failed?.status, 500);
      assert.equal(retried?.status, 200);
      assert.notEqual(retried.date, failed.date);
    });
  });
});
