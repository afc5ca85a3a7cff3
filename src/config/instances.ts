/**
 * Configuration: which Duo accounts ("instances") duo-j1 reads and where each one's graph goes.
 *
 * Two sources, never mixed:
 *  - environment variables describing one Duo account (`DUO_API_HOSTNAME`, `DUO_INTEGRATION_KEY`,
 *    `DUO_SECRET_KEY`, ...; environment.ts), or
 *  - a JSON instances file (`DUO_J1_INSTANCES` or `--instances`) describing many, where secrets are
 *    only references: `{ "env": "VAR" }` or `{ "file": "path" }` (instances-file.ts).
 *
 * A few variables say how duo-j1 talks to Duo rather than which account it reads — the request
 * budget, the signature version, the schedule's hour and day, the simulator's base URL — and apply
 * to every instance either way; an instance of the file may set its own (`sharedDuoSettings`).
 *
 * Loading validates everything and reports every problem at once, each naming its setting. Secret
 * values are never kept here and never appear in a message: they are resolved by the worker, at
 * the moment a client needs them (`resolveSecret`).
 */
import path from 'node:path';
import type { DuoSignatureVersion } from '../duo/signing';
import type { PhoneNumberPolicy } from '../graph/phone-numbers';
import { redactSecrets } from '../util/redact';
import { DEFAULT_TASK_QUEUE } from '../workflows/contract';
import { ConfigurationError } from './errors';
import { instanceFromEnvironment, variablesIgnoredWithFile } from './environment';
import { instancesFromFile } from './instances-file';
import { DEFAULT_SCHEDULE, readSchedule, type PollingInterval, type ScheduleSettings } from './schedule';
import type { SecretReference } from './secrets';
import type { SourceSwitches } from '../resources/table';
import {
  LENGTH_LIMITS,
  ProblemList,
  readInsecureDuoBaseUrl,
  readRequestsPerMinute,
  readSignatureVersion,
  readText,
  shown,
} from './values';

export { resolveSecret, type SecretReference } from './secrets';
export {
  DAYS_OF_WEEK,
  DEFAULT_POLLING_INTERVAL,
  DEFAULT_SCHEDULE,
  POLLING_INTERVALS,
  type DayOfWeek,
  type PollingInterval,
  type ScheduleSettings,
} from './schedule';

export interface DuoSettings {
  apiHostname: string;
  /** The `<id>` of `api-<id>.duosecurity.com`: JupiterOne keys and the Admin Panel link use it. */
  siteId: string;
  integrationKey: string;
  secretKey: SecretReference;
  signatureVersion: DuoSignatureVersion;
  /** The operator's cap on the per-endpoint request budget; undefined: the budget adapts to the account. */
  requestsPerMinute?: number;
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
  /** Gzip entity and relationship uploads (default true). */
  compressUploads: boolean;
}

/** Tailing the instance's Duo logs into graph facts (docs/logs.md). */
export interface LogSettings {
  enabled: boolean;
  /** How far back the first start reads. */
  backfillDays: number;
  /** Requests per minute per log endpoint, shared by everything in the process that reads them. */
  requestsPerMinute: number;
}

export interface InstanceConfig {
  id: string;
  accountName?: string;
  description?: string;
  pollingInterval: PollingInterval;
  schedule: ScheduleSettings;
  tagWithAccountName: boolean;
  /** What the graph holds of phone numbers: `keep` (default), `hash` or `omit` (src/graph/phone-numbers.ts). */
  phoneNumbers: PhoneNumberPolicy;
  duo: DuoSettings;
  /** Absent: the graph goes to the local graph directory. */
  jupiterone?: JupiterOneSettings;
  /** True for the generated sample tenant served by the bundled Duo simulator. */
  sample?: boolean;
  /**
   * The optional sources switched away from their defaults (src/config/sources.ts); absent or
   * empty: every source as declared in src/resources/table.ts.
   */
  sources?: SourceSwitches;
  /** Absent: logs are not read (the default). */
  logs?: LogSettings;
}

/** Where an instance's graph goes: a JupiterOne synchronization job, or the local graph directory. */
export type DeliveryTarget = 'local' | 'jupiterone';

/** The target of an instance: JupiterOne when it has JupiterOne settings, the local graph directory otherwise. */
export function deliveryTarget(instance: Pick<InstanceConfig, 'jupiterone'>): DeliveryTarget {
  return instance.jupiterone ? 'jupiterone' : 'local';
}

export interface AppConfig {
  instances: InstanceConfig[];
  dataDir: string;
  taskQueue: string;
  /** Where the instances came from, for messages: `environment`, a file path, or `sample`. */
  source: string;
}

/** How duo-j1 talks to Duo, from the environment: every instance's default. */
export interface SharedDuoSettings {
  /** The operator's cap on the per-endpoint request budget; undefined: the budget adapts to the account. */
  requestsPerMinute?: number;
  signatureVersion: DuoSignatureVersion;
  insecureBaseUrl?: string;
  schedule: ScheduleSettings;
}

export type Env = Record<string, string | undefined>;

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

function sharedDuoSettings(env: Env, problems: ProblemList): SharedDuoSettings {
  return {
    requestsPerMinute: readRequestsPerMinute(
      env.DUO_REQUESTS_PER_MINUTE,
      undefined,
      'DUO_REQUESTS_PER_MINUTE',
      problems,
    ),
    signatureVersion: readSignatureVersion(env.DUO_SIGNATURE_VERSION, 'DUO_SIGNATURE_VERSION', problems),
    insecureBaseUrl: readInsecureDuoBaseUrl(env.DUO_J1_INSECURE_DUO_BASE_URL, 'DUO_J1_INSECURE_DUO_BASE_URL', problems),
    schedule: readSchedule(
      { hour: env.DUO_SCHEDULE_HOUR, dayOfWeek: env.DUO_SCHEDULE_DAY },
      DEFAULT_SCHEDULE,
      { hour: 'DUO_SCHEDULE_HOUR', dayOfWeek: 'DUO_SCHEDULE_DAY' },
      problems,
    ),
  };
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
    if (!j1 || !instance.id) continue;
    const target =
      j1.target.source === 'api'
        ? `scope ${unquoted(j1.target.scope)}`
        : `integration instance ${unquoted(j1.target.integrationInstanceId)}`;
    const key = `${j1.account}\n${j1.target.source === 'api' ? 'scope' : 'integration'}\n${
      j1.target.source === 'api' ? j1.target.scope : j1.target.integrationInstanceId
    }`;
    const owner = targets.get(key);
    if (owner !== undefined) {
      problems.add(
        `instance ${instance.id}`,
        `sends to the same JupiterOne ${target} as instance ${owner}; each would delete the other's data`,
      );
    } else targets.set(key, instance.id);
  }
}

/** A name for a message, unquoted when it may be shown at all. */
function unquoted(value: string): string {
  const text = shown(value);
  return text === JSON.stringify(value) ? value : text;
}

/**
 * Every secret the environment holds for this configuration: no message may contain one, whatever
 * setting it was pasted into.
 */
function knownSecretValues(env: Env, instances: InstanceConfig[]): string[] {
  const names = new Set(['DUO_SECRET_KEY', 'JUPITERONE_API_KEY', 'TEMPORAL_API_KEY']);
  for (const instance of instances) {
    for (const reference of [instance.duo.secretKey, instance.jupiterone?.apiKey]) {
      if (reference && 'env' in reference) names.add(reference.env);
    }
  }
  return [...names].map((name) => env[name]?.trim()).filter((value): value is string => Boolean(value));
}

/**
 * Loads and validates the whole configuration. Throws one `ConfigurationError` listing every
 * problem found. With `allowNoInstances`, an environment with no Duo account configured yields an
 * empty list (the caller then offers the sample tenant).
 */
export function loadConfig(env: Env = process.env, options: LoadOptions = {}): AppConfig {
  const cwd = options.cwd ?? process.cwd();
  const checkSecrets = options.checkSecrets ?? true;
  const problems = new ProblemList();
  const dataDir = path.resolve(
    cwd,
    readText(env.DUO_J1_DATA_DIR, 'DUO_J1_DATA_DIR', LENGTH_LIMITS.path, problems) ?? 'data',
  );
  const taskQueue = env.DUO_J1_TASK_QUEUE || DEFAULT_TASK_QUEUE;
  if (taskQueue.length > LENGTH_LIMITS.taskQueue || !/^[A-Za-z0-9_.-]+$/.test(taskQueue)) {
    problems.add(
      'DUO_J1_TASK_QUEUE',
      `must be 1–${LENGTH_LIMITS.taskQueue} letters, digits, '.', '_' or '-', not ${shown(taskQueue)}`,
    );
  }
  const shared = sharedDuoSettings(env, problems);

  const instancesFile = options.instancesFile ?? env.DUO_J1_INSTANCES;
  let instances: InstanceConfig[] = [];
  let source = 'environment';
  if (instancesFile) {
    const file = path.resolve(cwd, instancesFile);
    source = file;
    instances = instancesFromFile(file, { env, shared, checkSecrets }, problems);
    variablesIgnoredWithFile(env, instances, problems);
  } else {
    const instance = instanceFromEnvironment(env, shared, checkSecrets, problems);
    if (instance) instances = [instance];
    else if (!options.allowNoInstances) {
      problems.add(
        'DUO_API_HOSTNAME',
        'no Duo account is configured: set DUO_API_HOSTNAME, DUO_INTEGRATION_KEY and DUO_SECRET_KEY, or DUO_J1_INSTANCES',
      );
    }
  }
  checkUniqueness(instances, problems);
  if (problems.problems.length > 0) {
    // The readers never quote a value shaped like a secret; this catches one that is not shaped
    // like one but is configured as one (a short key pasted into the wrong variable, say).
    const secrets = knownSecretValues(env, instances);
    throw new ConfigurationError(
      problems.problems.map(({ setting, message }) => ({
        setting: redactSecrets(setting, secrets),
        message: redactSecrets(message, secrets),
      })),
    );
  }
  return { instances, dataDir, taskQueue, source };
}
