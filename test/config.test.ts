import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError } from '../src/config/errors';
import { loadConfig, resolveSecret } from '../src/config/instances';
import { DuoClient } from '../src/duo/client';

const SECRET = 'sEcReT-value-that-must-never-be-printed-0123456789';
/** Shaped like a Duo secret key: pasted anywhere, it must never come back in a message. */
const SENTINEL = 'Zq7sentinelSECRET0x9KpLmN4vB8aaaaaaaaaaaa';

/** A valid one-account environment, to which each case adds its fault. */
const VALID_ENV = {
  DUO_API_HOSTNAME: 'api-1a2b3c4d.duosecurity.com',
  DUO_INTEGRATION_KEY: 'DIWJ8X6AEYOR5OMC6TQ1',
  DUO_SECRET_KEY: SECRET,
};

/** A valid instance of an instances file, to which each case adds its fault. */
const VALID_INSTANCE = {
  id: 'corp',
  apiHostname: 'api-1a2b3c4d.duosecurity.com',
  integrationKey: 'DIWJ8X6AEYOR5OMC6TQ1',
  secretKey: { env: 'CORP_DUO_SKEY' },
};

/** Every problem as one "setting: message" line. */
function linesOf(error: ConfigurationError): string {
  return error.problems.map((p) => `${p.setting}: ${p.message}`).join('\n');
}

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
    assert.equal(instance.duo.requestsPerMinute, undefined, 'unset: the budget adapts to the account');
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

  it('refuses unknown fields at every level of the instances file, suggesting the field meant', () => {
    const file = writeJson({
      instances: [
        {
          ...VALID_INSTANCE,
          pollingIntervall: 'FOUR_HOURS',
          jupiterOne: { account: 'acct', apiKey: { env: 'J1_KEY' }, integrationInstanceId: 'inst' },
          schedule: { hour: 3, day: 'MONDAY' },
          secretKey: { env: 'CORP_DUO_SKEY', fiel: 'x' },
        },
        {
          ...VALID_INSTANCE,
          id: 'emea',
          jupiterone: { account: 'acct', apiKey: { env: 'J1_KEY' }, integrationInstanceID: 'inst-2' },
        },
      ],
      instance: [],
    });
    const error = problemsOf(() => loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET, J1_KEY: SECRET }));
    const text = linesOf(error);
    assert.match(
      text,
      /DUO_J1_INSTANCES: the instances file has a field "instance" that is not known; did you mean "instances"\?/,
    );
    assert.match(
      text,
      /instances\[0\] \(corp\)\.pollingIntervall: is not a known field; did you mean "pollingInterval"\?/,
    );
    assert.match(text, /instances\[0\] \(corp\)\.jupiterOne: is not a known field; did you mean "jupiterone"\?/);
    assert.match(text, /instances\[0\] \(corp\)\.schedule\.day: is not a known field; did you mean "dayOfWeek"\?/);
    assert.match(text, /instances\[0\] \(corp\)\.secretKey: has an unknown field "fiel" \(did you mean "file"\?\)/);
    assert.match(
      text,
      /instances\[1\] \(emea\)\.jupiterone\.integrationInstanceID: is not a known field; did you mean "integrationInstanceId"\?/,
    );
    assert.match(text, /instances\[1\] \(emea\)\.jupiterone\.integrationInstanceId: is required/);
  });

  it('never shows a value under an unknown field, and refuses values beyond their length limit', () => {
    const file = writeJson([
      {
        ...VALID_INSTANCE,
        password: SENTINEL,
        [SENTINEL]: true,
        secretKey: { env: 'CORP_DUO_SKEY', value: SENTINEL },
        accountName: 'a'.repeat(1_000_000),
        description: SENTINEL.repeat(100),
        integrationKey: SENTINEL.repeat(2_500),
        jupiterone: { account: 'x'.repeat(300), apiKey: { env: 'J1_KEY' }, scope: 's'.repeat(201) },
      },
    ]);
    const error = problemsOf(() => loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET, J1_KEY: SECRET }));
    const text = linesOf(error);
    assert.match(text, /instances\[0\] \(corp\)\.password: is not a known field/);
    assert.match(
      text,
      /instances\[0\] \(corp\): has a field \(a 41-character value that looks like a key or secret, not shown\)/,
    );
    assert.match(text, /instances\[0\] \(corp\)\.secretKey: has an unknown field "value"/);
    assert.match(text, /instances\[0\] \(corp\)\.accountName: is 1,000,000 characters long; at most 200 are accepted/);
    assert.match(text, /instances\[0\] \(corp\)\.description: is 4,100 characters long; at most 1,000 are accepted/);
    assert.match(text, /instances\[0\] \(corp\)\.integrationKey: is 102,500 characters long; at most 64 are accepted/);
    assert.match(text, /instances\[0\] \(corp\)\.jupiterone\.account: is 300 characters long; at most 200/);
    assert.match(text, /instances\[0\] \(corp\)\.jupiterone\.scope: is 201 characters long; at most 200/);
    assert.ok(!error.message.includes(SENTINEL), 'no value is echoed');
    assert.ok(error.message.length < 5_000, 'the message stays readable');
  });

  it('never echoes a secret pasted into any variable', () => {
    const variables = [
      'DUO_API_HOSTNAME',
      'DUO_INTEGRATION_KEY',
      'DUO_INSTANCE_ID',
      'DUO_ACCOUNT_NAME',
      'DUO_DESCRIPTION',
      'DUO_POLLING_INTERVAL',
      'DUO_SCHEDULE_HOUR',
      'DUO_SCHEDULE_DAY',
      'DUO_TAG_WITH_ACCOUNT_NAME',
      'DUO_REQUESTS_PER_MINUTE',
      'DUO_SIGNATURE_VERSION',
      'DUO_J1_INSECURE_DUO_BASE_URL',
      'DUO_J1_TASK_QUEUE',
      'DUO_J1_DATA_DIR',
      'DUO_J1_INSTANCES',
      'JUPITERONE_ACCOUNT',
      'JUPITERONE_API_BASE_URL',
      'JUPITERONE_INTEGRATION_INSTANCE_ID',
      'JUPITERONE_SCOPE',
      'JUPITERONE_SYNC_SOURCE',
    ];
    let rejected = 0;
    for (const variable of variables) {
      for (const pasted of [SENTINEL, `https://${SENTINEL}`, `${SENTINEL}.duosecurity.com`, SENTINEL.repeat(30)]) {
        try {
          loadConfig({ ...VALID_ENV, JUPITERONE_API_KEY: SECRET, JUPITERONE_ACCOUNT: 'acct', [variable]: pasted });
        } catch (error) {
          rejected += 1;
          const message = error instanceof Error ? error.message : String(error);
          assert.ok(!message.includes(SENTINEL), `${variable} echoed the pasted value: ${message}`);
        }
      }
    }
    assert.ok(rejected >= variables.length, 'most pasted values are rejected');
    const hostname = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_API_HOSTNAME: SENTINEL }));
    assert.match(
      hostname.message,
      /DUO_API_HOSTNAME \(a 41-character value that looks like a key or secret, not shown\) is not a Duo API hostname/,
    );
  });

  it('takes a blank required value as missing', () => {
    const error = problemsOf(() =>
      loadConfig({ ...VALID_ENV, DUO_INTEGRATION_KEY: '   ', JUPITERONE_API_KEY: SECRET, JUPITERONE_ACCOUNT: ' ' }),
    );
    assert.match(linesOf(error), /DUO_INTEGRATION_KEY: is required/);
    assert.match(linesOf(error), /JUPITERONE_ACCOUNT: is required/);
  });

  it('never echoes a configured secret, even one not shaped like a secret', () => {
    const error = problemsOf(() =>
      loadConfig({ ...VALID_ENV, DUO_SECRET_KEY: 'hunter2hunter', DUO_POLLING_INTERVAL: 'hunter2hunter' }),
    );
    assert.match(error.message, /DUO_POLLING_INTERVAL must be one of .*, not "\[REDACTED\]"/);
    assert.ok(!error.message.includes('hunter2hunter'));
  });

  it('accepts exactly the insecure Duo base URLs the Duo client accepts', () => {
    for (const url of [
      'http://127.0.0.1:8443',
      'http://127.0.0.1:8443/',
      'http://127.0.0.1:8443/admin',
      'http://[::1]:9',
      'https://localhost:1',
      'http://10.0.0.5:8080',
      'http://127.0.0.1:8443?x=1',
      'ftp://127.0.0.1',
      'nonsense',
    ]) {
      let configAccepts = true;
      try {
        loadConfig({ ...VALID_ENV, DUO_J1_INSECURE_DUO_BASE_URL: url });
      } catch (error) {
        assert.ok(error instanceof ConfigurationError);
        assert.deepEqual(
          error.problems.map((p) => p.setting),
          ['DUO_J1_INSECURE_DUO_BASE_URL'],
        );
        configAccepts = false;
      }
      let clientAccepts = true;
      try {
        new DuoClient({
          ...VALID_ENV,
          secretKey: SECRET,
          apiHostname: VALID_ENV.DUO_API_HOSTNAME,
          integrationKey: VALID_ENV.DUO_INTEGRATION_KEY,
          insecureBaseUrl: url,
          logger: () => {},
        });
      } catch {
        clientAccepts = false;
      }
      assert.equal(configAccepts, clientAccepts, url);
    }
    const withPath = problemsOf(() =>
      loadConfig({ ...VALID_ENV, DUO_J1_INSECURE_DUO_BASE_URL: 'http://127.0.0.1:8443/admin' }),
    );
    assert.match(withPath.message, /DUO_J1_INSECURE_DUO_BASE_URL must give only scheme, host and port/);
  });

  it('applies the Duo base URL, budget, signature version and schedule variables to every instance of a file unless it sets its own', () => {
    const file = writeJson([
      VALID_INSTANCE,
      {
        ...VALID_INSTANCE,
        id: 'own',
        insecureBaseUrl: 'http://127.0.0.1:9000/',
        requestsPerMinute: 90,
        signatureVersion: 'v2-sha512',
        schedule: { hour: 5 },
      },
    ]);
    const config = loadConfig({
      DUO_J1_INSTANCES: file,
      CORP_DUO_SKEY: SECRET,
      DUO_J1_INSECURE_DUO_BASE_URL: 'http://127.0.0.1:8443',
      DUO_REQUESTS_PER_MINUTE: '120',
      DUO_SIGNATURE_VERSION: 'v2-sha1',
      DUO_SCHEDULE_HOUR: '4',
      DUO_SCHEDULE_DAY: 'FRIDAY',
    });
    const [shared, own] = config.instances;
    assert.equal(shared.duo.insecureBaseUrl, 'http://127.0.0.1:8443');
    assert.equal(shared.duo.requestsPerMinute, 120);
    assert.equal(shared.duo.signatureVersion, 'v2-sha1');
    assert.deepEqual(shared.schedule, { hour: 4, dayOfWeek: 'FRIDAY' });
    assert.equal(own.duo.insecureBaseUrl, 'http://127.0.0.1:9000');
    assert.equal(own.duo.requestsPerMinute, 90);
    assert.equal(own.duo.signatureVersion, 'v2-sha512');
    assert.deepEqual(own.schedule, { hour: 5, dayOfWeek: 'FRIDAY' });

    const remote = problemsOf(() =>
      loadConfig({
        DUO_J1_INSTANCES: file,
        CORP_DUO_SKEY: SECRET,
        DUO_J1_INSECURE_DUO_BASE_URL: 'http://10.1.2.3:8443',
      }),
    );
    assert.deepEqual(
      remote.problems.map((p) => p.setting),
      ['DUO_J1_INSECURE_DUO_BASE_URL'],
    );
    const remoteOwn = writeJson([{ ...VALID_INSTANCE, insecureBaseUrl: 'http://duo.example.com' }]);
    assert.match(
      problemsOf(() => loadConfig({ DUO_J1_INSTANCES: remoteOwn, CORP_DUO_SKEY: SECRET })).message,
      /instances\[0\] \(corp\)\.insecureBaseUrl "duo\.example\.com" is not a loopback address/,
    );
  });

  it('refuses variables describing one account beside an instances file, unless an instance refers to them', () => {
    const file = writeJson([
      { ...VALID_INSTANCE, jupiterone: { account: 'acct', apiKey: { env: 'JUPITERONE_API_KEY' }, scope: 'corp' } },
    ]);
    const error = problemsOf(() =>
      loadConfig({
        DUO_J1_INSTANCES: file,
        CORP_DUO_SKEY: SECRET,
        JUPITERONE_API_KEY: SECRET,
        DUO_POLLING_INTERVAL: 'ONE_HOUR',
        JUPITERONE_ACCOUNT: 'acct',
      }),
    );
    assert.deepEqual(error.problems.map((p) => p.setting).sort(), ['DUO_POLLING_INTERVAL', 'JUPITERONE_ACCOUNT']);
    assert.match(linesOf(error), /DUO_POLLING_INTERVAL: is set, but with an instances file .*set "pollingInterval"/);
  });

  it("gzips uploads unless JUPITERONE_COMPRESS_UPLOADS or an instance's compressUploads turns it off", () => {
    const j1Env = { ...VALID_ENV, JUPITERONE_API_KEY: SECRET, JUPITERONE_ACCOUNT: 'acct', JUPITERONE_SCOPE: 'corp' };
    assert.equal(loadConfig(j1Env).instances[0].jupiterone?.compressUploads, true, 'on by default');
    for (const [value, expected] of [
      ['false', false],
      ['0', false],
      ['TRUE', true],
    ] as const) {
      const config = loadConfig({ ...j1Env, JUPITERONE_COMPRESS_UPLOADS: value });
      assert.equal(config.instances[0].jupiterone?.compressUploads, expected, value);
    }
    const badEnv = problemsOf(() => loadConfig({ ...j1Env, JUPITERONE_COMPRESS_UPLOADS: 'gzip' }));
    assert.match(linesOf(badEnv), /^JUPITERONE_COMPRESS_UPLOADS: must be true or false, not "gzip"$/m);

    const jupiterone = { account: 'acct', apiKey: { env: 'J1_KEY' }, scope: 'corp' };
    const file = writeJson([
      { ...VALID_INSTANCE, jupiterone },
      { ...VALID_INSTANCE, id: 'plain', jupiterone: { ...jupiterone, scope: 'plain', compressUploads: false } },
    ]);
    const fromFile = loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET, J1_KEY: SECRET });
    assert.deepEqual(
      fromFile.instances.map((i) => [i.id, i.jupiterone?.compressUploads]),
      [
        ['corp', true],
        ['plain', false],
      ],
    );
    const badFile = writeJson([{ ...VALID_INSTANCE, jupiterone: { ...jupiterone, compressUploads: 'no thanks' } }]);
    const badField = problemsOf(() => loadConfig({ DUO_J1_INSTANCES: badFile, CORP_DUO_SKEY: SECRET, J1_KEY: SECRET }));
    assert.match(linesOf(badField), /instances\[0\] \(corp\)\.jupiterone\.compressUploads: must be true or false/);
    const beside = problemsOf(() =>
      loadConfig({
        DUO_J1_INSTANCES: file,
        CORP_DUO_SKEY: SECRET,
        J1_KEY: SECRET,
        JUPITERONE_COMPRESS_UPLOADS: 'false',
      }),
    );
    assert.match(
      linesOf(beside),
      /JUPITERONE_COMPRESS_UPLOADS: is set, but with an instances file .*"jupiterone\.compressUploads"/,
    );
  });

  it("reads phoneNumbers (keep, hash, omit; keep when absent) from DUO_PHONE_NUMBERS or an instance's field", () => {
    assert.equal(loadConfig(VALID_ENV).instances[0].phoneNumbers, 'keep', 'keep by default, as graph-duo did');
    assert.equal(loadConfig({ ...VALID_ENV, DUO_PHONE_NUMBERS: 'Hash' }).instances[0].phoneNumbers, 'hash');
    assert.equal(loadConfig({ ...VALID_ENV, DUO_PHONE_NUMBERS: 'omit' }).instances[0].phoneNumbers, 'omit');
    const badEnv = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_PHONE_NUMBERS: 'redact' }));
    assert.match(linesOf(badEnv), /^DUO_PHONE_NUMBERS: must be one of keep, hash, omit, not "redact"$/m);

    const file = writeJson([
      { ...VALID_INSTANCE, phoneNumbers: 'omit' },
      { ...VALID_INSTANCE, id: 'other' },
    ]);
    assert.deepEqual(
      loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET }).instances.map((i) => [i.id, i.phoneNumbers]),
      [
        ['corp', 'omit'],
        ['other', 'keep'],
      ],
    );
    const badFile = writeJson([{ ...VALID_INSTANCE, phoneNumbers: true }]);
    assert.match(
      linesOf(problemsOf(() => loadConfig({ DUO_J1_INSTANCES: badFile, CORP_DUO_SKEY: SECRET }))),
      /^instances\[0\] \(corp\)\.phoneNumbers: must be one of keep, hash, omit, not true$/m,
    );
    const beside = problemsOf(() =>
      loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET, DUO_PHONE_NUMBERS: 'hash' }),
    );
    assert.match(linesOf(beside), /DUO_PHONE_NUMBERS: is set, but with an instances file .*"phoneNumbers"/);
  });

  it("switches optional sources by DUO_SOURCES or an instance's sources, strictly, with the name meant", () => {
    assert.deepEqual(loadConfig(VALID_ENV).instances[0].sources, {}, 'every source as declared by default');
    const env = loadConfig({ ...VALID_ENV, DUO_SOURCES: ' accountSummary = OFF ,' });
    assert.deepEqual(env.instances[0].sources, { accountSummary: false });

    const typo = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_SOURCES: 'acountSummary=off' }));
    assert.match(
      linesOf(typo),
      /^DUO_SOURCES: names a source "acountSummary" that duo-j1 does not have; did you mean "accountSummary"\?$/m,
    );
    const badSwitch = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_SOURCES: 'accountSummary=maybe' }));
    assert.match(linesOf(badSwitch), /^DUO_SOURCES \(accountSummary\): must be on or off, not "maybe"$/m);
    const twice = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_SOURCES: 'accountSummary=off,accountSummary=on' }));
    assert.match(linesOf(twice), /DUO_SOURCES: switches "accountSummary" more than once/);
    const shape = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_SOURCES: `accountSummary,${SENTINEL}` }));
    assert.match(linesOf(shape), /DUO_SOURCES: must be a comma-separated list of <source>=on or <source>=off/);
    const pasted = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_SOURCES: `${SENTINEL}=off` }));
    assert.doesNotMatch(pasted.message + linesOf(shape), new RegExp(SENTINEL));

    const file = writeJson([
      { ...VALID_INSTANCE, sources: { accountSummary: 'off' } },
      { ...VALID_INSTANCE, id: 'emea', sources: { accountSummary: true } },
    ]);
    const fromFile = loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET });
    assert.deepEqual(
      fromFile.instances.map((i) => [i.id, i.sources]),
      [
        ['corp', { accountSummary: false }],
        ['emea', { accountSummary: true }],
      ],
    );
    const badFile = writeJson([
      { ...VALID_INSTANCE, sources: { AccountSummary: 'off' } },
      { ...VALID_INSTANCE, id: 'emea', sources: { accountSummary: 'no' } },
      { ...VALID_INSTANCE, id: 'apac', sources: ['accountSummary'] },
    ]);
    const fileProblems = linesOf(problemsOf(() => loadConfig({ DUO_J1_INSTANCES: badFile, CORP_DUO_SKEY: SECRET })));
    assert.match(
      fileProblems,
      /instances\[0\] \(corp\)\.sources: names a source "AccountSummary" that duo-j1 does not have; did you mean "accountSummary"\?/,
    );
    assert.match(fileProblems, /instances\[1\] \(emea\)\.sources\.accountSummary: must be on or off, not "no"/);
    assert.match(
      fileProblems,
      /instances\[2\] \(apac\)\.sources: must be an object of <source>: "on" or "off", not an array/,
    );
    const beside = problemsOf(() =>
      loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET, DUO_SOURCES: 'accountSummary=off' }),
    );
    assert.match(linesOf(beside), /DUO_SOURCES: is set, but with an instances file .*set "sources"/);
  });

  it('reads logs off by default, on with their settings, and names every wrong log setting', () => {
    assert.equal(loadConfig(VALID_ENV).instances[0].logs, undefined, 'off by default');
    assert.deepEqual(loadConfig({ ...VALID_ENV, DUO_LOGS: 'true' }).instances[0].logs, {
      enabled: true,
      backfillDays: 30,
      requestsPerMinute: 1,
    });
    const bad = problemsOf(() =>
      loadConfig({
        ...VALID_ENV,
        DUO_LOGS: 'yes please',
        DUO_LOG_BACKFILL_DAYS: '200',
        DUO_LOG_REQUESTS_PER_MINUTE: '0',
      }),
    );
    assert.match(linesOf(bad), /^DUO_LOGS: must be true or false/m);
    assert.match(linesOf(bad), /^DUO_LOG_BACKFILL_DAYS: must be a whole number from 1 to 150, not "200"$/m);
    assert.match(linesOf(bad), /^DUO_LOG_REQUESTS_PER_MINUTE: must be a whole number of at least 1/m);
    // A log setting while logs are off would be silently ignored: it is a problem instead.
    const off = problemsOf(() => loadConfig({ ...VALID_ENV, DUO_LOG_BACKFILL_DAYS: '7' }));
    assert.match(linesOf(off), /^DUO_LOG_BACKFILL_DAYS: is set, but logs are off: set DUO_LOGS to true/m);

    const file = writeJson([
      { ...VALID_INSTANCE, logs: { enabled: true, backfillDays: 7, requestsPerMinute: 2 } },
      { ...VALID_INSTANCE, id: 'quiet', logs: { enabled: false } },
    ]);
    const fromFile = loadConfig({ DUO_J1_INSTANCES: file, CORP_DUO_SKEY: SECRET });
    assert.deepEqual(
      fromFile.instances.map((i) => [i.id, i.logs]),
      [
        ['corp', { enabled: true, backfillDays: 7, requestsPerMinute: 2 }],
        ['quiet', undefined],
      ],
    );
    const badFile = writeJson([{ ...VALID_INSTANCE, logs: { enabled: true, backfilDays: 7 } }]);
    const badField = problemsOf(() => loadConfig({ DUO_J1_INSTANCES: badFile, CORP_DUO_SKEY: SECRET }));
    assert.match(linesOf(badField), /instances\[0\] \(corp\)\.logs\.backfilDays: .*backfillDays/);
  });
});
