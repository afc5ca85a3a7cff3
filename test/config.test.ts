import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError } from '../src/config/errors';
import { loadConfig, resolveSecret } from '../src/config/instances';

const SECRET = 'sEcReT-value-that-must-never-be-printed-0123456789';

function problemsOf(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigurationError, `expected a ConfigurationError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the configuration to be rejected');
}

function writeJson(value: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'duo-j1-config-'));
  const file = path.join(dir, 'instances.json');
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('configuration', () => {
  it('reads one Duo account from environment variables, with the documented defaults', () => {
    const config = loadConfig(
      {
        DUO_API_HOSTNAME: 'https://API-1A2B3C4D.duosecurity.com/',
        DUO_INTEGRATION_KEY: 'DIWJ8X6AEYOR5OMC6TQ1',
        DUO_SECRET_KEY: SECRET,
        DUO_ACCOUNT_NAME: 'Acme',
        DUO_TAG_WITH_ACCOUNT_NAME: 'true',
      },
      { cwd: '/srv/duo' },
    );
    assert.equal(config.instances.length, 1);
    const [instance] = config.instances;
    assert.equal(instance.id, 'default');
    assert.equal(instance.duo.apiHostname, 'api-1a2b3c4d.duosecurity.com');
    assert.equal(instance.duo.siteId, '1a2b3c4d');
    assert.equal(instance.duo.requestsPerMinute, 150);
    assert.equal(instance.duo.signatureVersion, 'v5');
    assert.equal(instance.pollingInterval, 'ONE_DAY');
    assert.equal(instance.tagWithAccountName, true);
    assert.equal(instance.jupiterone, undefined, 'no JupiterOne settings: the local graph directory');
    assert.deepEqual(instance.duo.secretKey, { env: 'DUO_SECRET_KEY' }, 'the secret is kept as a reference only');
    assert.equal(config.dataDir, '/srv/duo/data');
    assert.equal(config.taskQueue, 'duo-j1');
    assert.ok(!JSON.stringify(config).includes(SECRET), 'the loaded configuration holds no secret value');
  });

  it('reports every problem at once, each naming its setting, and never echoes a secret', () => {
    const error = problemsOf(() =>
      loadConfig({
        DUO_API_HOSTNAME: 'duo.example.com',
        DUO_SECRET_KEY: SECRET,
        DUO_INSTANCE_ID: 'Not Valid',
        DUO_POLLING_INTERVAL: 'HOURLY',
        DUO_REQUESTS_PER_MINUTE: '0',
        DUO_J1_INSECURE_DUO_BASE_URL: 'http://10.1.2.3:8080',
        JUPITERONE_API_KEY: SECRET,
        JUPITERONE_API_BASE_URL: 'http://j1.example.com',
      }),
    );
    const settings = error.problems.map((p) => p.setting).sort();
    assert.deepEqual(
      settings,
      [
        'DUO_INSTANCE_ID',
        'DUO_INTEGRATION_KEY',
        'DUO_J1_INSECURE_DUO_BASE_URL',
        'DUO_POLLING_INTERVAL',
        'DUO_REQUESTS_PER_MINUTE',
        'DUO_API_HOSTNAME',
        'JUPITERONE_ACCOUNT',
        'JUPITERONE_API_BASE_URL',
        'JUPITERONE_INTEGRATION_INSTANCE_ID',
      ].sort(),
    );
    assert.ok(!error.message.includes(SECRET));
    assert.match(error.message, /9 configuration problems/);
  });

  it('reads many instances from a JSON file with env and file secret references', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duo-j1-secrets-'));
    writeFileSync(path.join(dir, 'eu.skey'), `${SECRET}\n`);
    const file = path.join(dir, 'instances.json');
    writeFileSync(
      file,
      JSON.stringify({
        instances: [
          {
            id: 'us',
            apiHostname: 'api-aaaa1111.duosecurity.com',
            integrationKey: 'DIUS00000000000000000',
            secretKey: { env: 'US_DUO_SKEY' },
            pollingInterval: 'FOUR_HOURS',
            jupiterone: { account: 'acct-1', apiKey: { env: 'J1_KEY' }, integrationInstanceId: 'inst-us' },
          },
          {
            id: 'eu',
            apiHostname: 'api-bbbb2222.duofederal.com',
            integrationKey: 'DIEU00000000000000000',
            secretKey: { file: 'eu.skey' },
            pollingInterval: 'ONE_WEEK',
            schedule: { hour: 5, dayOfWeek: 'monday' },
            jupiterone: { account: 'acct-1', apiKey: { file: 'eu.skey' }, scope: 'duo-eu' },
          },
        ],
      }),
    );
    const config = loadConfig({ DUO_J1_INSTANCES: file, US_DUO_SKEY: SECRET, J1_KEY: SECRET });
    assert.deepEqual(
      config.instances.map((i) => [i.id, i.duo.siteId, i.pollingInterval, i.jupiterone?.target]),
      [
        ['us', 'aaaa1111', 'FOUR_HOURS', { source: 'integration-external', integrationInstanceId: 'inst-us' }],
        ['eu', 'bbbb2222', 'ONE_WEEK', { source: 'api', scope: 'duo-eu' }],
      ],
    );
    assert.deepEqual(config.instances[1].schedule, { hour: 5, dayOfWeek: 'MONDAY' });
    assert.equal(resolveSecret(config.instances[1].duo.secretKey), SECRET, 'file secrets are trimmed');
    assert.equal(resolveSecret(config.instances[0].duo.secretKey, { US_DUO_SKEY: SECRET }), SECRET);
  });

  it('rejects inline secrets, unresolvable references, duplicate ids and shared JupiterOne targets', () => {
    const file = writeJson([
      {
        id: 'one',
        apiHostname: 'api-aaaa1111.duosecurity.com',
        integrationKey: 'DI1',
        secretKey: SECRET,
        jupiterone: { account: 'a', apiKey: { env: 'J1' }, integrationInstanceId: 'same' },
      },
      {
        id: 'one',
        apiHostname: 'api-aaaa1111.duosecurity.com',
        integrationKey: 'DI2',
        secretKey: { env: 'MISSING_VARIABLE' },
        jupiterone: { account: 'a', apiKey: { file: 'no-such-file' }, integrationInstanceId: 'same' },
      },
    ]);
    const error = problemsOf(() => loadConfig({ DUO_J1_INSTANCES: file, J1: 'x' }));
    const text = error.problems.map((p) => `${p.setting}: ${p.message}`).join('\n');
    assert.match(text, /instances\[0\] \(one\)\.secretKey: must be a reference/);
    assert.match(text, /instances\[1\] \(one\)\.secretKey: environment variable MISSING_VARIABLE is empty or not set/);
    assert.match(text, /instances\[1\] \(one\)\.jupiterone\.apiKey: file .*no-such-file cannot be read \(ENOENT\)/);
    assert.match(text, /instance one: appears more than once/);
    assert.match(text, /sends to the same JupiterOne integration instance same/);
    assert.ok(!error.message.includes(SECRET), 'an inline secret is never echoed');
  });

  it('can skip secret checks for commands that only manage runs', () => {
    const file = writeJson([
      { id: 'one', apiHostname: 'api-aaaa1111.duosecurity.com', integrationKey: 'DI1', secretKey: { env: 'NOT_HERE' } },
    ]);
    assert.equal(loadConfig({ DUO_J1_INSTANCES: file }, { checkSecrets: false }).instances[0].id, 'one');
  });

  it('refuses mixing environment and file configuration, and a missing account', () => {
    const file = writeJson([]);
    const mixed = problemsOf(() => loadConfig({ DUO_J1_INSTANCES: file, DUO_API_HOSTNAME: 'api-x.duosecurity.com' }));
    assert.match(mixed.message, /DUO_J1_INSTANCES is set together with DUO_API_HOSTNAME/);
    const none = problemsOf(() => loadConfig({}));
    assert.match(none.message, /no Duo account is configured/);
    assert.deepEqual(loadConfig({}, { allowNoInstances: true }).instances, []);
  });
});
