import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  DuoApiError,
  DuoBadResponseError,
  DuoClient,
  DuoConfigurationError,
  DuoNetworkError,
  DuoNotFoundError,
  DuoPermissionError,
  DuoServerError,
  parseDuoApiHostname,
  parseInsecureDuoBaseUrl,
  validateDuoAccess,
  type DuoClientOptions,
} from '../src/duo';
import { generateTenant, startDuoSimulator, type DuoSimulator } from '../src/simulators/duo';
import { isLoopbackHost } from '../src/util/loopback';
import { redactSecrets } from '../src/util/redact';
import { stopAtEnd } from './harness/root-hooks';
import { listAll } from './harness/duo';

describe('Duo client errors, permissions and safety', () => {
  let simulator: DuoSimulator;
  /** Every log line and error message produced in this file, checked for secrets at the end. */
  const observedText: string[] = [];

  before(async () => {
    simulator = await startDuoSimulator({ tenant: generateTenant({ users: 60, seed: 9 }) });
    stopAtEnd(() => simulator.close());
  });
  beforeEach(() => {
    simulator.clearRequestLog();
    simulator.setFaults({});
  });

  function clientFor(options: Partial<DuoClientOptions> = {}): DuoClient {
    return new DuoClient({
      ...simulator.clientOptions,
      requestsPerMinute: 60_000,
      rateLimitBackoffMs: [1, 2],
      transientRetryBackoffMs: [1, 2],
      retryJitterMs: 1,
      logger: (level, message, fields) => observedText.push(`${level} ${message} ${JSON.stringify(fields)}`),
      ...options,
    });
  }

  async function failureOf(promise: Promise<unknown>): Promise<Error> {
    const error = await promise.then(
      () => assert.fail('expected a failure'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof Error);
    observedText.push(error.message, String(error), inspect(error), JSON.stringify(error));
    return error;
  }

  describe('permissions and validate', () => {
    it('turns a 403 into a DuoPermissionError naming the grant and the endpoint', async () => {
      const limited = simulator.addIntegrationKey(['Grant read resource', 'Grant settings', 'Grant read information']);
      const client = clientFor({ integrationKey: limited.integrationKey, secretKey: limited.secretKey });
      const error = await failureOf(listAll(client, 'admins'));
      assert.ok(error instanceof DuoPermissionError);
      assert.equal(error.grant, 'Grant administrators');
      assert.equal(error.path, '/admin/v1/admins');
      assert.equal(error.code, 40301);
      assert.equal(error.retryable, false);
      assert.match(error.message, /"Grant administrators"/);
      assert.match(error.message, /\/admin\/v1\/admins/);
      // Other endpoints still work with the same key.
      assert.equal((await listAll(client, 'users')).length, 60);
    });

    it('reports a forced 403 on one endpoint with that endpoint’s grant', async () => {
      simulator.setFaults({ endpointErrors: { '/admin/v1/settings': { status: 403, code: 40301 } } });
      const error = await failureOf(clientFor().getObject('settings'));
      assert.ok(error instanceof DuoPermissionError);
      assert.equal(error.grant, 'Grant settings');
    });

    it('validate reports valid credentials and each grant present or missing', async () => {
      const limited = simulator.addIntegrationKey(['Grant read resource', 'Grant settings', 'Grant read information']);
      const report = await validateDuoAccess(
        clientFor({ integrationKey: limited.integrationKey, secretKey: limited.secretKey }),
      );
      assert.equal(report.credentials, 'valid');
      assert.equal(report.ok, false);
      assert.equal(report.siteId, simulator.tenant.siteId);
      assert.deepEqual(Object.fromEntries(report.grants.map((grant) => [grant.grant, grant.status])), {
        'Grant read resource': 'present',
        'Grant administrators': 'missing',
        'Grant settings': 'present',
        'Grant read information': 'present',
      });
      const admins = report.probes.find((probe) => probe.endpoint === 'admins')!;
      assert.equal(admins.outcome, 'forbidden');
      assert.match(admins.error!, /Grant administrators/);
      // Every endpoint, the policy summary included.
      assert.equal(report.probes.length, 16);
      // Administrative units need the same grant as administrators.
      assert.equal(report.probes.find((probe) => probe.endpoint === 'administrativeUnits')!.outcome, 'forbidden');
      // List endpoints are probed with limit=1, one request each.
      const listProbes = simulator.requestLog.filter((entry) => entry.limit !== undefined);
      assert.equal(listProbes.length, 11);
      assert.ok(listProbes.every((entry) => entry.limit === 1 && entry.offset === 0));
    });

    it('validate says ok when everything is granted', async () => {
      const report = await validateDuoAccess(clientFor());
      assert.equal(report.ok, true);
      assert.ok(report.grants.every((grant) => grant.status === 'present'));
    });

    it('validate reports rejected credentials and leaves grants unknown', async () => {
      const report = await validateDuoAccess(clientFor({ secretKey: 'nottherightsecretnottherightsecret000000' }));
      assert.equal(report.credentials, 'invalid');
      assert.equal(report.ok, false);
      assert.match(report.credentialsProblem!, /40103/);
      assert.ok(report.grants.every((grant) => grant.status === 'unknown'));
      observedText.push(JSON.stringify(report));
    });
  });

  describe('failures and retries', () => {
    it('retries a 5xx and succeeds; gives up with DuoServerError after the retries', async () => {
      simulator.setFaults({ endpointErrors: { '/admin/v1/groups': { status: 503, code: 50301, times: 2 } } });
      assert.equal((await listAll(clientFor(), 'groups')).length, simulator.tenant.groups.length);
      assert.deepEqual(
        simulator.requestLog.map((entry) => entry.status),
        [503, 503, 200],
      );

      simulator.clearRequestLog();
      simulator.setFaults({ serverErrorRate: 1 });
      const error = await failureOf(clientFor().getObject('infoSummary'));
      assert.ok(error instanceof DuoServerError);
      assert.equal(error.attempts, 3);
      assert.equal(error.retryable, true);
      assert.equal(simulator.requestLog.length, 3);
    });

    it('retries reset connections; gives up with DuoNetworkError', async () => {
      simulator.setFaults({ connectionResetRate: 0.3, faultPaths: ['/admin/v1/users'] });
      const client = clientFor({ transientRetryBackoffMs: [1, 1, 1, 1, 1, 1, 1, 1] });
      const users = await listAll(client, 'users', { pageSize: 5 });
      assert.deepEqual(
        users.map((user) => user.user_id),
        simulator.tenant.users.map((user) => user.user_id),
      );
      assert.ok(simulator.requestLog.some((entry) => entry.status === 0));

      simulator.setFaults({ connectionResetRate: 1 });
      const error = await failureOf(clientFor().getObject('settings'));
      assert.ok(error instanceof DuoNetworkError);
      assert.equal(error.attempts, 3);
      assert.equal(error.retryable, true);
      assert.match(error.message, /DUO_API_HOSTNAME/);
    });

    it('retries truncated bodies; gives up with DuoBadResponseError', async () => {
      simulator.setFaults({ malformedBodyRate: 0.3 });
      const client = clientFor({ transientRetryBackoffMs: [1, 1, 1, 1, 1, 1, 1, 1] });
      // Pages of 3: enough requests that a 0.3 fault rate hits some whatever the dice drew before.
      assert.equal((await listAll(client, 'phones', { pageSize: 3 })).length, simulator.tenant.phones.length);
      assert.ok(simulator.requestLog.some((entry) => entry.reason === 'fault' && entry.status === 200));

      simulator.setFaults({ malformedBodyRate: 1 });
      const error = await failureOf(listAll(clientFor(), 'tokens'));
      assert.ok(error instanceof DuoBadResponseError);
      assert.match(error.reason, /not JSON/);
      assert.equal(error.retryable, true);
    });

    it('refuses to follow a redirect', async () => {
      simulator.setFaults({
        endpointErrors: { '/admin/v1/users': { status: 302, code: 30200, location: 'https://example.com/collect' } },
      });
      const error = await failureOf(listAll(clientFor(), 'users'));
      assert.ok(error instanceof DuoBadResponseError);
      assert.match(error.message, /redirect/);
      assert.equal(error.retryable, false);
      assert.equal(simulator.requestLog.length, 1);
    });

    it('maps 404 to DuoNotFoundError and an unexpected 400 to DuoApiError, without retrying', async () => {
      simulator.setFaults({
        endpointErrors: {
          '/admin/v1/tokens': { status: 404, code: 40401 },
          '/admin/v1/phones': { status: 400, code: 40002, message: 'Invalid request parameters' },
        },
      });
      const notFound = await failureOf(listAll(clientFor(), 'tokens'));
      assert.ok(notFound instanceof DuoNotFoundError);
      assert.equal(notFound.code, 40401);
      const badRequest = await failureOf(listAll(clientFor(), 'phones'));
      assert.ok(badRequest instanceof DuoApiError);
      assert.equal(badRequest.status, 400);
      assert.equal(badRequest.retryable, false);
      assert.equal(simulator.requestLog.length, 2);
    });

    it('reports an unreachable simulator as DuoNetworkError', async () => {
      const gone = await startDuoSimulator({ users: 1 });
      await gone.close();
      const error = await failureOf(clientFor({ ...gone.clientOptions }).getObject('settings'));
      assert.ok(error instanceof DuoNetworkError);
      assert.ok(error.causeCode, 'the network error code is kept');
    });

    it('stops at once when the caller aborts', async () => {
      simulator.setLatency(200);
      try {
        const controller = new AbortController();
        const reading = listAll(clientFor(), 'users', { signal: controller.signal });
        setTimeout(() => controller.abort(new Error('activity cancelled')), 20);
        await assert.rejects(reading, /activity cancelled/);
      } finally {
        simulator.setLatency(0);
      }
    });
  });

  describe('hostnames', () => {
    it('accepts Duo API hostnames, strips https:// and derives the site id', () => {
      assert.deepEqual(parseDuoApiHostname('https://API-1A2B3C4D.duosecurity.com/'), {
        apiHostname: 'api-1a2b3c4d.duosecurity.com',
        siteId: '1a2b3c4d',
        federal: false,
      });
      assert.deepEqual(parseDuoApiHostname('api-deadbeef.duofederal.com'), {
        apiHostname: 'api-deadbeef.duofederal.com',
        siteId: 'deadbeef',
        federal: true,
      });
    });

    for (const bad of [
      'http://api-1a2b3c4d.duosecurity.com',
      'api-1a2b3c4d.duosecurity.com.evil.example',
      'evil.example/api-1a2b3c4d.duosecurity.com',
      'admin-1a2b3c4d.duosecurity.com',
      'api-.duosecurity.com',
      '127.0.0.1',
    ]) {
      it(`refuses ${bad} naming DUO_API_HOSTNAME`, () => {
        assert.throws(
          () => new DuoClient({ apiHostname: bad, integrationKey: 'DIAAAAAAAAAAAAAAAAAA', secretKey: 'x'.repeat(40) }),
          (error: unknown) => error instanceof DuoConfigurationError && error.setting === 'DUO_API_HOSTNAME',
        );
      });
    }

    it('talks HTTPS to the API hostname unless an insecure loopback URL is configured', () => {
      const client = new DuoClient({
        apiHostname: 'api-1a2b3c4d.duosecurity.com',
        integrationKey: 'DIAAAAAAAAAAAAAAAAAA',
        secretKey: 'x'.repeat(40),
      });
      assert.equal(client.baseUrl, 'https://api-1a2b3c4d.duosecurity.com');
      assert.equal(parseInsecureDuoBaseUrl('http://127.0.0.1:8443'), 'http://127.0.0.1:8443');
      assert.equal(parseInsecureDuoBaseUrl('http://[::1]:9/'), 'http://[::1]:9');
      assert.equal(parseInsecureDuoBaseUrl('https://localhost:1'), 'https://localhost:1');
      assert.ok(isLoopbackHost('127.8.9.10'));
      assert.ok(!isLoopbackHost('10.0.0.1'));
    });

    for (const bad of [
      'http://10.0.0.5:8080',
      'http://duo.example.com',
      'ftp://127.0.0.1',
      'http://127.0.0.1/admin',
      'nonsense',
    ]) {
      it(`refuses the insecure base URL ${bad}`, () => {
        assert.throws(
          () => new DuoClient({ ...simulator.clientOptions, insecureBaseUrl: bad }),
          (error: unknown) =>
            error instanceof DuoConfigurationError && error.setting === 'DUO_J1_INSECURE_DUO_BASE_URL',
        );
      });
    }

    it('warns loudly when the insecure base URL is used, still signing for the API hostname', async () => {
      const lines: string[] = [];
      const client = new DuoClient({
        ...simulator.clientOptions,
        requestsPerMinute: 60_000,
        logger: (level, message) => lines.push(`${level} ${message}`),
      });
      assert.ok(lines.some((line) => line.startsWith('warn DUO_J1_INSECURE_DUO_BASE_URL is set')));
      await client.getObject('settings');
      assert.equal(simulator.requestLog[0]!.status, 200);
      observedText.push(...lines);
    });
  });

  describe('records', () => {
    it('removes secret_key from integrations at the parse boundary', async () => {
      const integrations = await listAll(clientFor(), 'integrations');
      assert.equal(integrations.length, simulator.tenant.integrations.length);
      assert.ok(simulator.tenant.integrations.every((integration) => typeof integration.secret_key === 'string'));
      assert.ok(integrations.every((integration) => !('secret_key' in integration)));
      const serialised = JSON.stringify(integrations);
      for (const integration of simulator.tenant.integrations) {
        assert.ok(!serialised.includes(integration.secret_key!));
      }
      // Everything else arrives unchanged.
      assert.deepEqual(
        integrations[0],
        Object.fromEntries(Object.entries(simulator.tenant.integrations[0]!).filter(([key]) => key !== 'secret_key')),
      );
    });

    it('passes unknown fields and enum values through', async () => {
      const tenant = generateTenant({ users: 3, seed: 4 });
      tenant.users[0] = { ...tenant.users[0]!, status: 'suspended by policy', risk_profile: { level: 'elevated' } };
      tenant.groups[0] = { ...tenant.groups[0]!, status: 'Archived' };
      simulator.setTenant({ ...tenant, apiHostname: simulator.apiHostname, siteId: simulator.tenant.siteId });
      const users = await listAll(clientFor(), 'users');
      assert.equal(users[0]!.status, 'suspended by policy');
      assert.deepEqual(users[0]!.risk_profile, { level: 'elevated' });
      assert.equal((await listAll(clientFor(), 'groups'))[0]!.status, 'Archived');
    });
  });

  describe('secrets', () => {
    it('redacts credentials from arbitrary text', () => {
      const signature = 'a'.repeat(128);
      const text =
        `Authorization: Basic RElYWFhYOmFiYw== sig=${signature} sha1=${'b'.repeat(40)} ` +
        `{"secret_key": "s3cr3tvalue"} key=topsecretkey123`;
      const redacted = redactSecrets(text, ['topsecretkey123']);
      for (const secret of ['RElYWFhYOmFiYw==', signature, 'b'.repeat(40), 's3cr3tvalue', 'topsecretkey123']) {
        assert.ok(!redacted.includes(secret), `${secret} survived: ${redacted}`);
      }
    });

    it('never lets a secret reach an error message or log line', () => {
      assert.ok(observedText.length > 20, 'the tests above produced errors and log lines');
      const all = observedText.join('\n');
      const secrets = [
        simulator.secretKey,
        'nottherightsecretnottherightsecret000000',
        ...simulator.tenant.integrations.map((integration) => integration.secret_key!),
      ];
      for (const secret of secrets) assert.ok(!all.includes(secret), 'a secret key leaked');
      assert.doesNotMatch(all, /Basic [A-Za-z0-9+/=]{8,}/);
      assert.doesNotMatch(all, /\b[0-9a-f]{40,}\b/);
      assert.doesNotMatch(all, /secret_key"?\s*[:=]\s*"?[A-Za-z0-9]/);
      // The simulator's request log holds no credentials either.
      const requestLog = JSON.stringify(simulator.requestLog);
      assert.ok(!requestLog.includes(simulator.secretKey));
      assert.doesNotMatch(requestLog, /authorization|Basic /i);
    });
  });
});
