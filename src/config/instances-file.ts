/**
 * Many Duo accounts from a JSON instances file (`DUO_J1_INSTANCES` or `--instances`).
 *
 * Strict at every level: a field the file may not hold is a problem, with the field it was
 * probably meant to be (`"jupiterOne"` → `jupiterone`), because a field ignored in silence is a
 * setting not applied — an instance written to the local folder instead of JupiterOne, say. The
 * value under an unknown field is never shown: it may be a secret put in the wrong place.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { unknownFields } from '../util/known-names';
import { describePath } from '../util/redact';
import { INSTANCE_ID_RULE, isInstanceId } from './instance-id';
import type { Env, InstanceConfig, SharedDuoSettings } from './instances';
import { readJupiterOneBaseUrl, readJupiterOneTarget } from './jupiterone-settings';
import { readPollingInterval, readSchedule } from './schedule';
import { checkSecretAvailable, readSecretReference } from './secrets';
import { readSourcesField } from './sources';
import {
  jsonKind,
  LENGTH_LIMITS,
  type ProblemList,
  readBoolean,
  readDuoApiHost,
  readInsecureDuoBaseUrl,
  readIntegrationKey,
  readLogSettings,
  readPhoneNumberPolicy,
  readRequestsPerMinute,
  readRequiredText,
  readSignatureVersion,
  readText,
  shown,
} from './values';

/** The fields each level of the file may hold. The README documents each one. */
export const INSTANCES_FILE_FIELDS = {
  document: ['instances'],
  instance: [
    'id',
    'accountName',
    'description',
    'pollingInterval',
    'schedule',
    'apiHostname',
    'integrationKey',
    'secretKey',
    'tagWithAccountName',
    'phoneNumbers',
    'requestsPerMinute',
    'signatureVersion',
    'insecureBaseUrl',
    'jupiterone',
    'sources',
    'logs',
  ],
  logs: ['enabled', 'backfillDays', 'requestsPerMinute'],
  schedule: ['hour', 'dayOfWeek'],
  jupiterone: ['account', 'apiKey', 'baseUrl', 'integrationInstanceId', 'scope', 'source', 'compressUploads'],
} as const;

/** An instances file is a person's list of accounts; anything near this size is a wrong file. */
const MAX_FILE_BYTES = 10 * 1024 * 1024;

interface FileContext {
  env: Env;
  shared: SharedDuoSettings;
  checkSecrets: boolean;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reports every field of `object` that is not in `known`, naming it under `where` (undefined: the
 * document itself, reported under DUO_J1_INSTANCES).
 */
function reportUnknownFields(
  object: JsonObject,
  known: readonly string[],
  where: string | undefined,
  problems: ProblemList,
): void {
  for (const { name, suggestion } of unknownFields(object, known)) {
    const hint = suggestion ? `did you mean "${suggestion}"?` : `known fields: ${known.join(', ')}`;
    // A plain field name goes into the setting's path; anything else (a secret pasted as a key,
    // a megabyte of text) is described without being shown.
    const plain = /^[A-Za-z0-9_$-]{1,64}$/.test(name) && shown(name) === JSON.stringify(name);
    if (where === undefined) {
      problems.add('DUO_J1_INSTANCES', `the instances file has a field ${shown(name)} that is not known; ${hint}`);
    } else if (plain) {
      problems.add(`${where}.${name}`, `is not a known field; ${hint}`);
    } else {
      problems.add(where, `has a field ${shown(name)} that is not known; ${hint}`);
    }
  }
}

/** Reads, checks and returns the file's instances; problems go to `problems`. */
export function instancesFromFile(file: string, context: FileContext, problems: ProblemList): InstanceConfig[] {
  const document = readDocument(file, problems);
  if (document === undefined) return [];
  let list: unknown;
  if (Array.isArray(document)) list = document;
  else if (isObject(document)) {
    reportUnknownFields(document, INSTANCES_FILE_FIELDS.document, undefined, problems);
    list = document.instances;
  }
  if (!Array.isArray(list)) {
    problems.add(
      'DUO_J1_INSTANCES',
      `the instances file ${describePath(file)} must hold an array of instances, or {"instances": [...]}`,
    );
    return [];
  }
  if (list.length === 0) {
    problems.add('DUO_J1_INSTANCES', `the instances file ${describePath(file)} lists no instance`);
    return [];
  }
  const baseDir = path.dirname(file);
  return list.map((raw, index) => instanceFromJson(raw, `instances[${index}]`, baseDir, context, problems));
}

function readDocument(file: string, problems: ProblemList): unknown {
  try {
    const size = statSync(file).size;
    if (size > MAX_FILE_BYTES) {
      problems.add(
        'DUO_J1_INSTANCES',
        `the instances file ${describePath(file)} has ${size.toLocaleString('en-US')} bytes; at most ${MAX_FILE_BYTES.toLocaleString('en-US')} are accepted (is it the right file?)`,
      );
      return undefined;
    }
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    // A JSON syntax error's message quotes the text near the error, which may be a secret.
    const reason =
      (error as NodeJS.ErrnoException).code ?? (error instanceof SyntaxError ? 'not valid JSON' : 'unreadable');
    problems.add('DUO_J1_INSTANCES', `the instances file ${describePath(file)} cannot be read as JSON (${reason})`);
    return undefined;
  }
}

function instanceFromJson(
  raw: unknown,
  where: string,
  baseDir: string,
  context: FileContext,
  problems: ProblemList,
): InstanceConfig {
  const item: JsonObject = isObject(raw) ? raw : {};
  if (!isObject(raw)) problems.add(where, `must be an object with the instance's settings, not ${jsonKind(raw)}`);
  const rawId = item.id;
  const id = isInstanceId(rawId) ? rawId : '';
  const label = id ? `${where} (${id})` : where;
  if (!id) {
    problems.add(
      `${label}.id`,
      rawId === undefined ? `is required: ${INSTANCE_ID_RULE}` : `must be ${INSTANCE_ID_RULE}, not ${shown(rawId)}`,
    );
  }
  reportUnknownFields(item, INSTANCES_FILE_FIELDS.instance, label, problems);
  const setting = (name: string) => `${label}.${name}`;

  const secretKey = readSecretReference(item.secretKey, setting('secretKey'), baseDir, problems);
  if (secretKey && context.checkSecrets) checkSecretAvailable(secretKey, setting('secretKey'), context.env, problems);
  const schedule = objectField(item, 'schedule', label, problems);
  if (schedule) reportUnknownFields(schedule, INSTANCES_FILE_FIELDS.schedule, setting('schedule'), problems);

  const instance: InstanceConfig = {
    id,
    accountName: readText(item.accountName, setting('accountName'), LENGTH_LIMITS.accountName, problems),
    description: readText(item.description, setting('description'), LENGTH_LIMITS.description, problems),
    pollingInterval: readPollingInterval(item.pollingInterval, setting('pollingInterval'), problems),
    schedule: readSchedule(
      { hour: schedule?.hour, dayOfWeek: schedule?.dayOfWeek },
      context.shared.schedule,
      { hour: setting('schedule.hour'), dayOfWeek: setting('schedule.dayOfWeek') },
      problems,
    ),
    tagWithAccountName: readBoolean(item.tagWithAccountName, setting('tagWithAccountName'), problems),
    phoneNumbers: readPhoneNumberPolicy(item.phoneNumbers, setting('phoneNumbers'), problems),
    sources: readSourcesField(item.sources, setting('sources'), problems),
    duo: {
      ...readDuoApiHost(item.apiHostname, setting('apiHostname'), problems),
      integrationKey: readIntegrationKey(item.integrationKey, setting('integrationKey'), problems),
      secretKey: secretKey ?? { env: '' },
      signatureVersion:
        item.signatureVersion === undefined
          ? context.shared.signatureVersion
          : readSignatureVersion(item.signatureVersion, setting('signatureVersion'), problems),
      requestsPerMinute: readRequestsPerMinute(
        item.requestsPerMinute,
        context.shared.requestsPerMinute,
        setting('requestsPerMinute'),
        problems,
      ),
      // The instance's own simulator URL, else the environment's (`DUO_J1_INSECURE_DUO_BASE_URL`).
      insecureBaseUrl:
        item.insecureBaseUrl === undefined
          ? context.shared.insecureBaseUrl
          : readInsecureDuoBaseUrl(item.insecureBaseUrl, setting('insecureBaseUrl'), problems),
    },
  };

  const logs = objectField(item, 'logs', label, problems);
  if (logs) {
    reportUnknownFields(logs, INSTANCES_FILE_FIELDS.logs, setting('logs'), problems);
    instance.logs = readLogSettings(
      { enabled: logs.enabled, backfillDays: logs.backfillDays, requestsPerMinute: logs.requestsPerMinute },
      {
        enabled: setting('logs.enabled'),
        backfillDays: setting('logs.backfillDays'),
        requestsPerMinute: setting('logs.requestsPerMinute'),
      },
      problems,
    );
  }

  const j1 = objectField(item, 'jupiterone', label, problems);
  if (j1) {
    reportUnknownFields(j1, INSTANCES_FILE_FIELDS.jupiterone, setting('jupiterone'), problems);
    const account = readRequiredText(
      j1.account,
      setting('jupiterone.account'),
      LENGTH_LIMITS.jupiterOneName,
      'your JupiterOne account id',
      problems,
    );
    const apiKey = readSecretReference(j1.apiKey, setting('jupiterone.apiKey'), baseDir, problems);
    if (apiKey && context.checkSecrets)
      checkSecretAvailable(apiKey, setting('jupiterone.apiKey'), context.env, problems);
    instance.jupiterone = {
      account: account ?? '',
      apiKey: apiKey ?? { env: '' },
      baseUrl: readJupiterOneBaseUrl(j1.baseUrl, setting('jupiterone.baseUrl'), problems),
      target: readJupiterOneTarget(
        j1,
        {
          integrationInstanceId: setting('jupiterone.integrationInstanceId'),
          scope: setting('jupiterone.scope'),
          source: setting('jupiterone.source'),
        },
        problems,
      ),
      compressUploads: readBoolean(j1.compressUploads, setting('jupiterone.compressUploads'), problems, true),
    };
  }
  return instance;
}

/** A field holding an object (`schedule`, `jupiterone`); undefined when absent or not an object. */
function objectField(item: JsonObject, name: string, label: string, problems: ProblemList): JsonObject | undefined {
  const value = item[name];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(`${label}.${name}`, `must be an object, not ${jsonKind(value)}`);
    return undefined;
  }
  return value;
}
