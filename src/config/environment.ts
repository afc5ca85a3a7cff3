/**
 * One Duo account from `DUO_*` / `JUPITERONE_*` environment variables, and the rule that those
 * variables describe an account only without an instances file.
 */
import { INSTANCE_ID_RULE, isInstanceId } from './instance-id';
import type { Env, InstanceConfig, JupiterOneSettings, SharedDuoSettings } from './instances';
import { readJupiterOneBaseUrl, readJupiterOneTarget } from './jupiterone-settings';
import { readPollingInterval } from './schedule';
import { readSourcesVariable } from './sources';
import {
  LENGTH_LIMITS,
  type ProblemList,
  readBoolean,
  readDuoApiHost,
  readIntegrationKey,
  readLogSettings,
  readPhoneNumberPolicy,
  readRequiredText,
  readText,
  shown,
} from './values';

/** The variables that name the Duo account itself; any of them means "configured by environment". */
const DUO_ACCOUNT_VARIABLES = ['DUO_API_HOSTNAME', 'DUO_INTEGRATION_KEY', 'DUO_SECRET_KEY'] as const;

/**
 * Variables that describe one account and so have no meaning beside an instances file, with the
 * field of the file that takes their place.
 */
const ACCOUNT_VARIABLE_FIELDS: Readonly<Record<string, string>> = {
  DUO_INSTANCE_ID: 'id',
  DUO_ACCOUNT_NAME: 'accountName',
  DUO_DESCRIPTION: 'description',
  DUO_POLLING_INTERVAL: 'pollingInterval',
  DUO_TAG_WITH_ACCOUNT_NAME: 'tagWithAccountName',
  DUO_PHONE_NUMBERS: 'phoneNumbers',
  DUO_LOGS: 'logs.enabled',
  DUO_LOG_BACKFILL_DAYS: 'logs.backfillDays',
  DUO_LOG_REQUESTS_PER_MINUTE: 'logs.requestsPerMinute',
  JUPITERONE_ACCOUNT: 'jupiterone.account',
  JUPITERONE_API_KEY: 'jupiterone.apiKey',
  JUPITERONE_API_BASE_URL: 'jupiterone.baseUrl',
  JUPITERONE_INTEGRATION_INSTANCE_ID: 'jupiterone.integrationInstanceId',
  JUPITERONE_SCOPE: 'jupiterone.scope',
  JUPITERONE_SYNC_SOURCE: 'jupiterone.source',
  JUPITERONE_COMPRESS_UPLOADS: 'jupiterone.compressUploads',
  DUO_SOURCES: 'sources',
};

/**
 * With an instances file, a variable describing one account would be silently ignored: each is a
 * problem instead. A variable an instance names as a secret reference (`{"env": "JUPITERONE_API_KEY"}`)
 * is in use, not ignored.
 */
export function variablesIgnoredWithFile(env: Env, instances: InstanceConfig[], problems: ProblemList): void {
  const set = DUO_ACCOUNT_VARIABLES.filter((name) => env[name]);
  if (set.length > 0) {
    problems.add(
      'DUO_J1_INSTANCES',
      `is set together with ${set.join(', ')}: configure one Duo account by environment or many by file, not both`,
    );
  }
  const referenced = new Set(
    instances.flatMap((instance) =>
      [instance.duo.secretKey, instance.jupiterone?.apiKey].flatMap((reference) =>
        reference && 'env' in reference ? [reference.env] : [],
      ),
    ),
  );
  for (const [name, field] of Object.entries(ACCOUNT_VARIABLE_FIELDS)) {
    if (!env[name] || referenced.has(name)) continue;
    problems.add(
      name,
      `is set, but with an instances file (DUO_J1_INSTANCES) each instance's settings come from the file: set "${field}" on the instances that need it, and unset ${name}`,
    );
  }
}

/** One Duo account from the environment; undefined when none of its variables is set. */
export function instanceFromEnvironment(
  env: Env,
  shared: SharedDuoSettings,
  checkSecrets: boolean,
  problems: ProblemList,
): InstanceConfig | undefined {
  if (DUO_ACCOUNT_VARIABLES.every((name) => !env[name])) return undefined;
  const id = env.DUO_INSTANCE_ID || 'default';
  if (!isInstanceId(id)) problems.add('DUO_INSTANCE_ID', `must be ${INSTANCE_ID_RULE}, not ${shown(id)}`);
  const host = readDuoApiHost(env.DUO_API_HOSTNAME, 'DUO_API_HOSTNAME', problems);
  const integrationKey = readIntegrationKey(env.DUO_INTEGRATION_KEY, 'DUO_INTEGRATION_KEY', problems);
  if (!env.DUO_SECRET_KEY?.trim())
    problems.add('DUO_SECRET_KEY', 'is required: the secret key of your Duo Admin API application');
  else if (checkSecrets) checkSecretLength(env.DUO_SECRET_KEY, 'DUO_SECRET_KEY', problems);
  return {
    id,
    accountName: readText(env.DUO_ACCOUNT_NAME, 'DUO_ACCOUNT_NAME', LENGTH_LIMITS.accountName, problems),
    description: readText(env.DUO_DESCRIPTION, 'DUO_DESCRIPTION', LENGTH_LIMITS.description, problems),
    pollingInterval: readPollingInterval(env.DUO_POLLING_INTERVAL, 'DUO_POLLING_INTERVAL', problems),
    schedule: shared.schedule,
    tagWithAccountName: readBoolean(env.DUO_TAG_WITH_ACCOUNT_NAME, 'DUO_TAG_WITH_ACCOUNT_NAME', problems),
    phoneNumbers: readPhoneNumberPolicy(env.DUO_PHONE_NUMBERS, 'DUO_PHONE_NUMBERS', problems),
    sources: readSourcesVariable(env.DUO_SOURCES, 'DUO_SOURCES', problems),
    duo: {
      ...host,
      integrationKey,
      secretKey: { env: 'DUO_SECRET_KEY' },
      signatureVersion: shared.signatureVersion,
      requestsPerMinute: shared.requestsPerMinute,
      insecureBaseUrl: shared.insecureBaseUrl,
    },
    jupiterone: jupiterOneFromEnvironment(env, checkSecrets, problems),
    logs: readLogSettings(
      {
        enabled: env.DUO_LOGS,
        backfillDays: env.DUO_LOG_BACKFILL_DAYS,
        requestsPerMinute: env.DUO_LOG_REQUESTS_PER_MINUTE,
      },
      { enabled: 'DUO_LOGS', backfillDays: 'DUO_LOG_BACKFILL_DAYS', requestsPerMinute: 'DUO_LOG_REQUESTS_PER_MINUTE' },
      problems,
    ),
  };
}

function jupiterOneFromEnvironment(
  env: Env,
  checkSecrets: boolean,
  problems: ProblemList,
): JupiterOneSettings | undefined {
  if (!env.JUPITERONE_API_KEY && !env.JUPITERONE_ACCOUNT) return undefined;
  if (!env.JUPITERONE_API_KEY) problems.add('JUPITERONE_API_KEY', 'is required when JUPITERONE_ACCOUNT is set');
  else if (checkSecrets) checkSecretLength(env.JUPITERONE_API_KEY, 'JUPITERONE_API_KEY', problems);
  const account = readRequiredText(
    env.JUPITERONE_ACCOUNT,
    'JUPITERONE_ACCOUNT',
    LENGTH_LIMITS.jupiterOneName,
    'your JupiterOne account id, when JUPITERONE_API_KEY is set',
    problems,
  );
  return {
    account: account ?? '',
    apiKey: { env: 'JUPITERONE_API_KEY' },
    baseUrl: readJupiterOneBaseUrl(env.JUPITERONE_API_BASE_URL, 'JUPITERONE_API_BASE_URL', problems),
    target: readJupiterOneTarget(
      {
        integrationInstanceId: env.JUPITERONE_INTEGRATION_INSTANCE_ID,
        scope: env.JUPITERONE_SCOPE,
        source: env.JUPITERONE_SYNC_SOURCE,
      },
      {
        integrationInstanceId: 'JUPITERONE_INTEGRATION_INSTANCE_ID',
        scope: 'JUPITERONE_SCOPE',
        source: 'JUPITERONE_SYNC_SOURCE',
      },
      problems,
    ),
    compressUploads: readBoolean(env.JUPITERONE_COMPRESS_UPLOADS, 'JUPITERONE_COMPRESS_UPLOADS', problems, true),
  };
}

/** A secret given directly in a variable: only its length is checked (and never shown). */
function checkSecretLength(value: string, setting: string, problems: ProblemList): void {
  const length = value.trim().length;
  if (length > LENGTH_LIMITS.secret) {
    problems.add(
      setting,
      `holds ${length.toLocaleString('en-US')} characters; a key is at most ${LENGTH_LIMITS.secret.toLocaleString('en-US')}`,
    );
  }
}
