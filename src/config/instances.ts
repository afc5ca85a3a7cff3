/**
 * Configuration: which Duo accounts ("instances") duo-j1 reads and where each one's graph goes.
 *
 * Two sources, never mixed:
 *  - environment variables describing one Duo account (`DUO_API_HOSTNAME`, `DUO_INTEGRATION_KEY`,
 *    `DUO_SECRET_KEY`, ...), or
 *  - a JSON instances file (`DUO_J1_INSTANCES` or `--instances`) describing many, where secrets are
 *    only references: `{ "env": "VAR" }` or `{ "file": "path" }`.
 *
 * Loading validates everything and reports every problem at once, each naming its setting. Secret
 * values are never read here (only their references are checked) and never appear in a message:
 * they are resolved by the worker, at the moment a client needs them (`resolveSecret`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigurationError, type ConfigurationProblem } from './errors';

export const POLLING_INTERVALS = [
  'DISABLED',
  'THIRTY_MINUTES',
  'ONE_HOUR',
  'FOUR_HOURS',
  'EIGHT_HOURS',
  'TWELVE_HOURS',
  'ONE_DAY',
  'ONE_WEEK',
] as const;
export type PollingInterval = (typeof POLLING_INTERVALS)[number];

export const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

/** Where a secret comes from. `value` exists only in-process (the bundled simulator's test keys). */
export type SecretReference = { env: string } | { file: string } | { value: string; description: string };

export type SignatureVersion = 'v5' | 'v2-sha512' | 'v2-sha1';

export interface DuoSettings {
  apiHostname: string;
  /** The `<id>` of `api-<id>.duosecurity.com`: JupiterOne keys and the Admin Panel link use it. */
  siteId: string;
  integrationKey: string;
  secretKey: SecretReference;
  signatureVersion: SignatureVersion;
  requestsPerMinute: number;
  /** Loopback-only override of the Duo base URL, for the bundled simulator. */
  insecureBaseUrl?: string;
}

export type JupiterOneTarget =
  | { source: 'integration-external'; integrationInstanceId: string }
  | { source: 'integration-managed'; integrationInstanceId: string }
  | { source: 'api'; scope: string };

export interface JupiterOneSettings {
  account: string;
  apiKey: SecretReference;
  baseUrl: string;
  target: JupiterOneTarget;
}

export interface ScheduleSettings {
  /** Hour of day (0–23, UTC) of `ONE_DAY` and `ONE_WEEK` runs. */
  hour: number;
  /** Day of `ONE_WEEK` runs. */
  dayOfWeek: DayOfWeek;
}

export interface InstanceConfig {
  id: string;
  accountName?: string;
  description?: string;
  pollingInterval: PollingInterval;
  schedule: ScheduleSettings;
  tagWithAccountName: boolean;
  duo: DuoSettings;
  /** Absent: the graph goes to the local graph directory. */
  jupiterone?: JupiterOneSettings;
  /** True for the generated sample tenant served by the bundled Duo simulator. */
  sample?: boolean;
}

export interface AppConfig {
  instances: InstanceConfig[];
  dataDir: string;
  taskQueue: string;
  /** Where the instances came from, for messages: `environment`, a file path, or `sample`. */
  source: string;
}

export const INSTANCE_ID_PATTERN = /^[a-z0-9-]{1,64}$/;
const DUO_HOST_PATTERN = /^api-([a-z0-9]+)\.(duosecurity|duofederal)\.com$/;
const DEFAULT_JUPITERONE_BASE_URL = 'https://api.us.jupiterone.io';
export const DEFAULT_TASK_QUEUE = 'duo-j1';
export const DEFAULT_REQUESTS_PER_MINUTE = 150;
export const DEFAULT_SCHEDULE: ScheduleSettings = { hour: 2, dayOfWeek: 'SUNDAY' };

/** Strips a leading `https://` and a trailing `/`, and lower-cases, as users paste hostnames either way. */
export function normaliseDuoHostname(value: string): string {
  return value
    .trim()
    .replace(/^https:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

/** The site id of a Duo API hostname, or undefined when it is not a Duo API hostname. */
export function duoSiteId(apiHostname: string): string | undefined {
  return DUO_HOST_PATTERN.exec(normaliseDuoHostname(apiHostname))?.[1];
}

export function isLoopbackUrl(value: string): boolean {
  try {
    const url = new URL(value);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
    );
  } catch {
    return false;
  }
}

type Env = Record<string, string | undefined>;

interface LoadOptions {
  /** Path of an instances file; overrides `DUO_J1_INSTANCES`. */
  instancesFile?: string;
  /** Directory relative paths are resolved against (default: the process's). */
  cwd?: string;
  /** When no Duo account is configured at all, return an empty instance list instead of failing. */
  allowNoInstances?: boolean;
  /**
   * Check that every secret reference resolves (default true). Commands that only start or manage
   * runs (`run`, `schedule`) turn it off: the secrets live with the workers, not with the operator.
   */
  checkSecrets?: boolean;
}

/** Collects problems while reading; nothing throws until everything has been looked at. */
class ProblemList {
  readonly problems: ConfigurationProblem[] = [];
  add(setting: string, message: string): void {
    this.problems.push({ setting, message });
  }
}

function readBoolean(value: string | boolean | undefined, setting: string, problems: ProblemList): boolean {
  if (value === undefined || value === '') return false;
  if (typeof value === 'boolean') return value;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  problems.add(setting, `must be true or false, not "${value}"`);
  return false;
}

function readPositiveInteger(
  value: string | number | undefined,
  fallback: number,
  setting: string,
  problems: ProblemList,
): number {
  if (value === undefined || value === '') return fallback;
  const number = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(number) || number < 1) {
    problems.add(setting, `must be a whole number of at least 1, not "${value}"`);
    return fallback;
  }
  return number;
}

function readPollingInterval(value: string | undefined, setting: string, problems: ProblemList): PollingInterval {
  if (value === undefined || value === '') return 'ONE_DAY';
  const upper = value.toUpperCase();
  if ((POLLING_INTERVALS as readonly string[]).includes(upper)) return upper as PollingInterval;
  problems.add(setting, `must be one of ${POLLING_INTERVALS.join(', ')}, not "${value}"`);
  return 'ONE_DAY';
}

function readSchedule(
  hourValue: string | number | undefined,
  dayValue: string | undefined,
  settingPrefix: { hour: string; day: string },
  problems: ProblemList,
): ScheduleSettings {
  let hour = DEFAULT_SCHEDULE.hour;
  if (hourValue !== undefined && hourValue !== '') {
    const number = Number(hourValue);
    if (Number.isInteger(number) && number >= 0 && number <= 23) hour = number;
    else problems.add(settingPrefix.hour, `must be an hour from 0 to 23 (UTC), not "${hourValue}"`);
  }
  let dayOfWeek = DEFAULT_SCHEDULE.dayOfWeek;
  if (dayValue !== undefined && dayValue !== '') {
    const upper = dayValue.toUpperCase();
    if ((DAYS_OF_WEEK as readonly string[]).includes(upper)) dayOfWeek = upper as DayOfWeek;
    else problems.add(settingPrefix.day, `must be one of ${DAYS_OF_WEEK.join(', ')}, not "${dayValue}"`);
  }
  return { hour, dayOfWeek };
}

function readSignatureVersion(value: string | undefined, setting: string, problems: ProblemList): SignatureVersion {
  if (value === undefined || value === '') return 'v5';
  if (value === 'v5' || value === 'v2-sha512' || value === 'v2-sha1') return value;
  problems.add(setting, `must be v5, v2-sha512 or v2-sha1, not "${value}"`);
  return 'v5';
}

function checkDuoHostname(
  value: string | undefined,
  setting: string,
  problems: ProblemList,
): { apiHostname: string; siteId: string } {
  if (!value) {
    problems.add(
      setting,
      'is required: the API hostname of your Duo Admin API application, e.g. api-1a2b3c4d.duosecurity.com',
    );
    return { apiHostname: '', siteId: '' };
  }
  const apiHostname = normaliseDuoHostname(value);
  const siteId = duoSiteId(apiHostname);
  if (!siteId) {
    problems.add(
      setting,
      `"${value}" is not a Duo API hostname: it must look like api-<id>.duosecurity.com or api-<id>.duofederal.com (copy it from the Admin API application in the Duo Admin Panel)`,
    );
    return { apiHostname, siteId: '' };
  }
  return { apiHostname, siteId };
}

function checkInsecureBaseUrl(value: string | undefined, setting: string, problems: ProblemList): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isLoopbackUrl(value)) {
    problems.add(
      setting,
      'is accepted only for loopback addresses (127.0.0.0/8, ::1, localhost); it exists for the bundled Duo simulator',
    );
    return undefined;
  }
  return value.replace(/\/+$/, '');
}

function checkJupiterOneBaseUrl(value: string | undefined, setting: string, problems: ProblemList): string {
  if (value === undefined || value === '') return DEFAULT_JUPITERONE_BASE_URL;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && !isLoopbackUrl(value)) {
      problems.add(setting, 'must be an https:// URL (plain http is accepted only on loopback addresses)');
    }
  } catch {
    problems.add(setting, `"${value}" is not a URL`);
  }
  return value.replace(/\/+$/, '');
}

function checkSecretReference(
  value: unknown,
  setting: string,
  baseDir: string,
  problems: ProblemList,
): SecretReference | undefined {
  if (typeof value === 'string') {
    // Never echo the value: it may be the secret itself.
    problems.add(
      setting,
      'must be a reference, {"env": "VARIABLE"} or {"file": "path"}; secrets are not accepted inline in the instances file',
    );
    return undefined;
  }
  if (value && typeof value === 'object') {
    const reference = value as Record<string, unknown>;
    if (typeof reference.env === 'string' && Object.keys(reference).length === 1) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(reference.env))
        problems.add(setting, `names an invalid environment variable "${reference.env}"`);
      return { env: reference.env };
    }
    if (typeof reference.file === 'string' && Object.keys(reference).length === 1) {
      return { file: path.resolve(baseDir, reference.file) };
    }
  }
  problems.add(
    setting,
    value === undefined
      ? 'is required: {"env": "VARIABLE"} or {"file": "path"}'
      : 'must be {"env": "VARIABLE"} or {"file": "path"}',
  );
  return undefined;
}

function describeReference(reference: SecretReference): string {
  if ('env' in reference) return `environment variable ${reference.env}`;
  if ('file' in reference) return `file ${reference.file}`;
  return reference.description;
}

/**
 * Reads a secret from its reference. Errors name the reference, never a value.
 * Surrounding white space (a trailing newline in a secret file) is removed.
 */
export function resolveSecret(reference: SecretReference, env: Env = process.env): string {
  let value: string | undefined;
  if ('value' in reference) value = reference.value;
  else if ('env' in reference) value = env[reference.env];
  else {
    try {
      value = readFileSync(reference.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigurationError([{ setting: describeReference(reference), message: `cannot be read (${code})` }]);
    }
  }
  const trimmed = value?.trim();
  if (!trimmed)
    throw new ConfigurationError([{ setting: describeReference(reference), message: 'is empty or not set' }]);
  return trimmed;
}

/** Checks that a secret reference can be resolved, without keeping or returning the value. */
function checkSecretAvailable(reference: SecretReference, setting: string, env: Env, problems: ProblemList): void {
  try {
    resolveSecret(reference, env);
  } catch (error) {
    if (error instanceof ConfigurationError) {
      for (const problem of error.problems) problems.add(setting, `${problem.setting} ${problem.message}`);
    } else throw error;
  }
}

function readJupiterOneTarget(
  fields: { integrationInstanceId?: unknown; scope?: unknown; source?: unknown },
  settings: { integrationInstanceId: string; scope: string; source: string },
  problems: ProblemList,
): JupiterOneTarget {
  const instanceId = typeof fields.integrationInstanceId === 'string' ? fields.integrationInstanceId.trim() : '';
  const scope = typeof fields.scope === 'string' ? fields.scope.trim() : '';
  const source = typeof fields.source === 'string' && fields.source ? fields.source : undefined;
  if (source !== undefined && !['integration-external', 'integration-managed', 'api'].includes(source)) {
    problems.add(settings.source, `must be integration-external, integration-managed or api, not "${source}"`);
  }
  if (instanceId && scope) {
    problems.add(settings.integrationInstanceId, `and ${settings.scope} are exclusive: set one`);
  }
  if (scope || source === 'api') {
    if (!scope) problems.add(settings.scope, 'is required when the JupiterOne source is "api"');
    return { source: 'api', scope };
  }
  if (!instanceId) {
    problems.add(
      settings.integrationInstanceId,
      `is required to send to JupiterOne: the id of your custom integration instance (or set ${settings.scope} for an API-sourced scope)`,
    );
  }
  return {
    source: source === 'integration-managed' ? 'integration-managed' : 'integration-external',
    integrationInstanceId: instanceId,
  };
}

/** One Duo account from `DUO_*` / `JUPITERONE_*` environment variables; undefined when none is set. */
function instanceFromEnvironment(env: Env, problems: ProblemList): InstanceConfig | undefined {
  const duoVariables = ['DUO_API_HOSTNAME', 'DUO_INTEGRATION_KEY', 'DUO_SECRET_KEY'];
  if (duoVariables.every((name) => !env[name])) return undefined;
  const id = env.DUO_INSTANCE_ID || 'default';
  if (!INSTANCE_ID_PATTERN.test(id)) problems.add('DUO_INSTANCE_ID', `"${id}" must match [a-z0-9-]{1,64}`);
  const host = checkDuoHostname(env.DUO_API_HOSTNAME, 'DUO_API_HOSTNAME', problems);
  if (!env.DUO_INTEGRATION_KEY)
    problems.add('DUO_INTEGRATION_KEY', 'is required: the integration key of your Duo Admin API application');
  if (!env.DUO_SECRET_KEY)
    problems.add('DUO_SECRET_KEY', 'is required: the secret key of your Duo Admin API application');
  return {
    id,
    accountName: env.DUO_ACCOUNT_NAME || undefined,
    description: env.DUO_DESCRIPTION || undefined,
    pollingInterval: readPollingInterval(env.DUO_POLLING_INTERVAL, 'DUO_POLLING_INTERVAL', problems),
    schedule: readSchedule(
      env.DUO_SCHEDULE_HOUR,
      env.DUO_SCHEDULE_DAY,
      { hour: 'DUO_SCHEDULE_HOUR', day: 'DUO_SCHEDULE_DAY' },
      problems,
    ),
    tagWithAccountName: readBoolean(env.DUO_TAG_WITH_ACCOUNT_NAME, 'DUO_TAG_WITH_ACCOUNT_NAME', problems),
    duo: {
      ...host,
      integrationKey: (env.DUO_INTEGRATION_KEY ?? '').trim(),
      secretKey: { env: 'DUO_SECRET_KEY' },
      signatureVersion: readSignatureVersion(env.DUO_SIGNATURE_VERSION, 'DUO_SIGNATURE_VERSION', problems),
      requestsPerMinute: readPositiveInteger(
        env.DUO_REQUESTS_PER_MINUTE,
        DEFAULT_REQUESTS_PER_MINUTE,
        'DUO_REQUESTS_PER_MINUTE',
        problems,
      ),
      insecureBaseUrl: checkInsecureBaseUrl(env.DUO_J1_INSECURE_DUO_BASE_URL, 'DUO_J1_INSECURE_DUO_BASE_URL', problems),
    },
    jupiterone: jupiterOneFromEnvironment(env, problems),
  };
}

function jupiterOneFromEnvironment(env: Env, problems: ProblemList): JupiterOneSettings | undefined {
  if (!env.JUPITERONE_API_KEY && !env.JUPITERONE_ACCOUNT) return undefined;
  if (!env.JUPITERONE_API_KEY) problems.add('JUPITERONE_API_KEY', 'is required when JUPITERONE_ACCOUNT is set');
  if (!env.JUPITERONE_ACCOUNT)
    problems.add('JUPITERONE_ACCOUNT', 'is required when JUPITERONE_API_KEY is set: your JupiterOne account id');
  return {
    account: env.JUPITERONE_ACCOUNT ?? '',
    apiKey: { env: 'JUPITERONE_API_KEY' },
    baseUrl: checkJupiterOneBaseUrl(env.JUPITERONE_API_BASE_URL, 'JUPITERONE_API_BASE_URL', problems),
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
  };
}

function instancesFromFile(file: string, env: Env, checkSecrets: boolean, problems: ProblemList): InstanceConfig[] {
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.add('DUO_J1_INSTANCES', `the instances file ${file} cannot be read as JSON (${reason})`);
    return [];
  }
  const list = Array.isArray(document) ? document : (document as { instances?: unknown })?.instances;
  if (!Array.isArray(list)) {
    problems.add(
      'DUO_J1_INSTANCES',
      `the instances file ${file} must hold an array of instances, or {"instances": [...]}`,
    );
    return [];
  }
  const baseDir = path.dirname(file);
  return list.map((raw, index) => instanceFromJson(raw, `instances[${index}]`, baseDir, env, checkSecrets, problems));
}

function instanceFromJson(
  raw: unknown,
  where: string,
  baseDir: string,
  env: Env,
  checkSecrets: boolean,
  problems: ProblemList,
): InstanceConfig {
  const item = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = item[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      problems.add(`${where}.${name}`, 'must be a string');
      return undefined;
    }
    return value;
  };
  const id = text('id') ?? '';
  const label = id ? `${where} (${id})` : where;
  if (!INSTANCE_ID_PATTERN.test(id)) problems.add(`${label}.id`, `"${id}" must match [a-z0-9-]{1,64}`);
  const host = checkDuoHostname(text('apiHostname'), `${label}.apiHostname`, problems);
  const integrationKey = text('integrationKey') ?? '';
  if (!integrationKey)
    problems.add(`${label}.integrationKey`, 'is required: the integration key of the Duo Admin API application');
  const secretKey = checkSecretReference(item.secretKey, `${label}.secretKey`, baseDir, problems);
  if (secretKey && checkSecrets) checkSecretAvailable(secretKey, `${label}.secretKey`, env, problems);
  const schedule = (item.schedule ?? {}) as Record<string, unknown>;
  const instance: InstanceConfig = {
    id,
    accountName: text('accountName'),
    description: text('description'),
    pollingInterval: readPollingInterval(text('pollingInterval'), `${label}.pollingInterval`, problems),
    schedule: readSchedule(
      schedule.hour as number | undefined,
      schedule.dayOfWeek as string | undefined,
      { hour: `${label}.schedule.hour`, day: `${label}.schedule.dayOfWeek` },
      problems,
    ),
    tagWithAccountName: readBoolean(
      item.tagWithAccountName as boolean | undefined,
      `${label}.tagWithAccountName`,
      problems,
    ),
    duo: {
      ...host,
      integrationKey,
      secretKey: secretKey ?? { env: '' },
      signatureVersion: readSignatureVersion(text('signatureVersion'), `${label}.signatureVersion`, problems),
      requestsPerMinute: readPositiveInteger(
        item.requestsPerMinute as number | undefined,
        readPositiveInteger(
          env.DUO_REQUESTS_PER_MINUTE,
          DEFAULT_REQUESTS_PER_MINUTE,
          'DUO_REQUESTS_PER_MINUTE',
          problems,
        ),
        `${label}.requestsPerMinute`,
        problems,
      ),
      insecureBaseUrl: checkInsecureBaseUrl(text('insecureBaseUrl'), `${label}.insecureBaseUrl`, problems),
    },
  };
  if (item.jupiterone !== undefined) {
    const j1 = (item.jupiterone && typeof item.jupiterone === 'object' ? item.jupiterone : {}) as Record<
      string,
      unknown
    >;
    const account = typeof j1.account === 'string' ? j1.account : '';
    if (!account) problems.add(`${label}.jupiterone.account`, 'is required: your JupiterOne account id');
    const apiKey = checkSecretReference(j1.apiKey, `${label}.jupiterone.apiKey`, baseDir, problems);
    if (apiKey && checkSecrets) checkSecretAvailable(apiKey, `${label}.jupiterone.apiKey`, env, problems);
    instance.jupiterone = {
      account,
      apiKey: apiKey ?? { env: '' },
      baseUrl: checkJupiterOneBaseUrl(j1.baseUrl as string | undefined, `${label}.jupiterone.baseUrl`, problems),
      target: readJupiterOneTarget(
        j1,
        {
          integrationInstanceId: `${label}.jupiterone.integrationInstanceId`,
          scope: `${label}.jupiterone.scope`,
          source: `${label}.jupiterone.source`,
        },
        problems,
      ),
    };
  }
  return instance;
}

/** Two instances must differ in id and must not write to the same JupiterOne instance or scope. */
function checkUniqueness(instances: InstanceConfig[], problems: ProblemList): void {
  const ids = new Map<string, number>();
  const targets = new Map<string, string>();
  for (const instance of instances) {
    if (instance.id) {
      ids.set(instance.id, (ids.get(instance.id) ?? 0) + 1);
      if (ids.get(instance.id) === 2)
        problems.add(`instance ${instance.id}`, 'appears more than once: instance ids must be unique');
    }
    const j1 = instance.jupiterone;
    if (!j1) continue;
    const target =
      j1.target.source === 'api'
        ? `account ${j1.account} scope ${j1.target.scope}`
        : `account ${j1.account} integration instance ${j1.target.integrationInstanceId}`;
    const owner = targets.get(target);
    if (owner !== undefined) {
      problems.add(
        `instance ${instance.id}`,
        `sends to the same JupiterOne ${target.replace(/^account \S+ /, '')} as instance ${owner}; each would delete the other's data`,
      );
    } else targets.set(target, instance.id);
  }
}

/**
 * Loads and validates the whole configuration. Throws one `ConfigurationError` listing every
 * problem found. With `allowNoInstances`, an environment with no Duo account configured yields an
 * empty list (the caller then offers the sample tenant).
 */
export function loadConfig(env: Env = process.env, options: LoadOptions = {}): AppConfig {
  const cwd = options.cwd ?? process.cwd();
  const problems = new ProblemList();
  const dataDir = path.resolve(cwd, env.DUO_J1_DATA_DIR || 'data');
  const taskQueue = env.DUO_J1_TASK_QUEUE || DEFAULT_TASK_QUEUE;
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(taskQueue))
    problems.add('DUO_J1_TASK_QUEUE', `"${taskQueue}" must be 1–200 letters, digits, '.', '_' or '-'`);

  const instancesFile = options.instancesFile ?? env.DUO_J1_INSTANCES;
  let instances: InstanceConfig[] = [];
  let source = 'environment';
  if (instancesFile) {
    const file = path.resolve(cwd, instancesFile);
    source = file;
    const duoVariables = ['DUO_API_HOSTNAME', 'DUO_INTEGRATION_KEY', 'DUO_SECRET_KEY'].filter((name) => env[name]);
    if (duoVariables.length > 0) {
      problems.add(
        'DUO_J1_INSTANCES',
        `is set together with ${duoVariables.join(', ')}: configure one Duo account by environment or many by file, not both`,
      );
    }
    instances = instancesFromFile(file, env, options.checkSecrets ?? true, problems);
    if (instances.length === 0 && problems.problems.length === 0)
      problems.add('DUO_J1_INSTANCES', `the instances file ${file} lists no instance`);
  } else {
    const instance = instanceFromEnvironment(env, problems);
    if (instance) instances = [instance];
    else if (!options.allowNoInstances) {
      problems.add(
        'DUO_API_HOSTNAME',
        'no Duo account is configured: set DUO_API_HOSTNAME, DUO_INTEGRATION_KEY and DUO_SECRET_KEY, or DUO_J1_INSTANCES',
      );
    }
  }
  checkUniqueness(instances, problems);
  if (problems.problems.length > 0) throw new ConfigurationError(problems.problems);
  return { instances, dataDir, taskQueue, source };
}

/** The instance with this id, or a clear error naming the configured ones. */
export function findInstance(config: AppConfig, instanceId: string): InstanceConfig | undefined {
  return config.instances.find((instance) => instance.id === instanceId);
}
