/**
 * Reading one setting's value, from an environment variable or a field of the instances file.
 *
 * Each reader checks the value, adds a problem naming the setting when it is wrong, and returns a
 * usable fallback so that reading goes on and every problem is reported at once. Messages never
 * quote a value that may be a secret pasted into the wrong place (`describeValue`), and values
 * have length limits: an account name becomes a tag on every entity, and nothing a person types
 * here is megabytes long.
 */
import { DuoConfigurationError } from '../duo/errors';
import { parseDuoApiHostname, parseInsecureDuoBaseUrl } from '../duo/hostname';
import { DEFAULT_LOG_REQUESTS_PER_MINUTE, parseRequestsPerMinute } from '../duo/rate-budget';
import { DUO_SIGNATURE_VERSIONS, type DuoSignatureVersion } from '../duo/signing';
import { PHONE_NUMBER_POLICIES, type PhoneNumberPolicy } from '../graph/phone-numbers';
import { describeValue } from '../util/redact';
import type { ConfigurationProblem } from './errors';
import type { LogSettings } from './instances';

/** The longest value accepted for each kind of setting, in characters. */
export const LENGTH_LIMITS = {
  accountName: 200,
  description: 1000,
  integrationKey: 64,
  /** JupiterOne account ids, integration instance ids and scopes. */
  jupiterOneName: 200,
  url: 2048,
  /** The name of an environment variable a secret reference points to. */
  variableName: 256,
  path: 4096,
  /** A resolved secret (Duo secret keys have 40 characters; JupiterOne API keys a few hundred). */
  secret: 8192,
  taskQueue: 200,
} as const;

/** Collects problems while reading; nothing throws until everything has been looked at. */
export class ProblemList {
  readonly problems: ConfigurationProblem[] = [];

  add(setting: string, message: string): void {
    this.problems.push({ setting, message });
  }
}

/** A value as read: from the environment (a string) or from JSON (anything). */
export type RawValue = unknown;

function isAbsent(value: RawValue): value is undefined | null | '' {
  return value === undefined || value === null || value === '';
}

/** Absent, or only white space: what a required setting must not be. */
function isBlank(value: RawValue): boolean {
  return isAbsent(value) || (typeof value === 'string' && value.trim() === '');
}

/**
 * A text setting: a string of at most `maxLength` characters (surrounding white space removed), or
 * undefined when absent or unusable.
 */
export function readText(
  value: RawValue,
  setting: string,
  maxLength: number,
  problems: ProblemList,
): string | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string') {
    problems.add(setting, `must be a string, not ${jsonKind(value)}`);
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed.length > maxLength) {
    problems.add(
      setting,
      `is ${trimmed.length.toLocaleString('en-US')} characters long; at most ${maxLength.toLocaleString('en-US')} are accepted`,
    );
    return undefined;
  }
  return trimmed === '' ? undefined : trimmed;
}

/** Like `readText`, but absent or blank is a problem too: "is required: <what>". */
export function readRequiredText(
  value: RawValue,
  setting: string,
  maxLength: number,
  what: string,
  problems: ProblemList,
): string | undefined {
  if (isBlank(value)) {
    problems.add(setting, `is required: ${what}`);
    return undefined;
  }
  return readText(value, setting, maxLength, problems);
}

/** `true`/`false` (also `1`/`0`, `yes`/`no`, any case); `fallback` when absent. */
export function readBoolean(value: RawValue, setting: string, problems: ProblemList, fallback = false): boolean {
  if (isAbsent(value)) return fallback;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|1|yes)$/i.test(value.trim())) return true;
  if (typeof value === 'string' && /^(false|0|no)$/i.test(value.trim())) return false;
  problems.add(setting, `must be true or false, not ${shown(value)}`);
  return false;
}

/** A whole number from `min` to `max`, or `fallback` when absent. */
export function readWholeNumber(
  value: RawValue,
  range: { min: number; max?: number; fallback: number },
  setting: string,
  problems: ProblemList,
): number {
  if (isAbsent(value)) return range.fallback;
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(number) || number < range.min || number > max) {
    const bounds = range.max === undefined ? `of at least ${range.min}` : `from ${range.min} to ${range.max}`;
    problems.add(setting, `must be a whole number ${bounds}, not ${shown(value)}`);
    return range.fallback;
  }
  return number;
}

/**
 * Duo refuses a `mintime` older than 180 days, and the first window keeps its `mintime` while it is
 * paged through (for days at Duo's log budget on a large tenant): a backfill of at most 150 days
 * stays within Duo's limit while it is read.
 */
export const MAX_LOG_BACKFILL_DAYS = 150;
export const DEFAULT_LOG_BACKFILL_DAYS = 30;

/**
 * The log tail's settings from their raw values (an environment variable each, or the fields of an
 * instance's `logs` object); `names` gives each setting's name for messages.
 */
export function readLogSettings(
  raw: { enabled: RawValue; backfillDays: RawValue; requestsPerMinute: RawValue },
  names: { enabled: string; backfillDays: string; requestsPerMinute: string },
  problems: ProblemList,
): LogSettings | undefined {
  const enabled = readBoolean(raw.enabled, names.enabled, problems);
  const backfillDays = readWholeNumber(
    raw.backfillDays,
    { min: 1, max: MAX_LOG_BACKFILL_DAYS, fallback: DEFAULT_LOG_BACKFILL_DAYS },
    names.backfillDays,
    problems,
  );
  const requestsPerMinute = readWholeNumber(
    raw.requestsPerMinute,
    { min: 1, fallback: DEFAULT_LOG_REQUESTS_PER_MINUTE },
    names.requestsPerMinute,
    problems,
  );
  if (!enabled) {
    for (const [value, name] of [
      [raw.backfillDays, names.backfillDays],
      [raw.requestsPerMinute, names.requestsPerMinute],
    ] as const) {
      if (!isAbsent(value)) problems.add(name, `is set, but logs are off: set ${names.enabled} to true, or remove it`);
    }
    return undefined;
  }
  return { enabled, backfillDays, requestsPerMinute };
}

/**
 * The operator's cap on Duo's request budget per endpoint, by the Duo client's own rule
 * (`parseRequestsPerMinute`); undefined when unset: the budget then adapts to the account.
 */
export function readRequestsPerMinute(
  value: RawValue,
  fallback: number | undefined,
  setting: string,
  problems: ProblemList,
): number | undefined {
  if (isAbsent(value)) return fallback;
  if (typeof value !== 'string' && typeof value !== 'number') {
    problems.add(setting, `must be a whole number of requests per minute, not ${jsonKind(value)}`);
    return fallback;
  }
  return fromDuoRule(() => parseRequestsPerMinute(String(value), setting), problems);
}

/**
 * Runs a check owned by the Duo client (hostname, base URL, request budget) and turns its
 * `DuoConfigurationError` into a problem, so the configuration accepts exactly what the client does.
 */
export function fromDuoRule<T>(check: () => T, problems: ProblemList): T | undefined {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof DuoConfigurationError)) throw error;
    problems.add(error.setting, error.problem.replace(/\.$/, ''));
    return undefined;
  }
}

/** One of `choices`, case-insensitively (answered in the choices' case), or `fallback` when absent. */
export function readChoice<T extends string>(
  value: RawValue,
  choices: readonly T[],
  fallback: T,
  setting: string,
  problems: ProblemList,
): T {
  if (isAbsent(value)) return fallback;
  const match =
    typeof value === 'string'
      ? choices.find((choice) => choice.toLowerCase() === value.trim().toLowerCase())
      : undefined;
  if (match === undefined) {
    problems.add(setting, `must be one of ${choices.join(', ')}, not ${shown(value)}`);
    return fallback;
  }
  return match;
}

/** The `phoneNumbers` setting: `keep` when absent. */
export function readPhoneNumberPolicy(value: RawValue, setting: string, problems: ProblemList): PhoneNumberPolicy {
  return readChoice(value, PHONE_NUMBER_POLICIES, 'keep', setting, problems);
}

export function readSignatureVersion(value: RawValue, setting: string, problems: ProblemList): DuoSignatureVersion {
  return readChoice(value, DUO_SIGNATURE_VERSIONS, 'v5', setting, problems);
}

/** A value for a message: quoted when it is short and cannot be a secret (see `describeValue`). */
export function shown(value: RawValue): string {
  if (typeof value === 'string') return describeValue(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return jsonKind(value);
}

/** What kind of JSON value `value` is, for messages that must not show it. */
export function jsonKind(value: RawValue): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

/** A Duo API hostname, by the Duo client's rule; also gives the site id. */
export function readDuoApiHost(
  value: RawValue,
  setting: string,
  problems: ProblemList,
): { apiHostname: string; siteId: string } {
  const text = readRequiredText(
    value,
    setting,
    LENGTH_LIMITS.url,
    'the API hostname of your Duo Admin API application, e.g. api-1a2b3c4d.duosecurity.com',
    problems,
  );
  if (text === undefined) return { apiHostname: '', siteId: '' };
  const host = fromDuoRule(() => parseDuoApiHostname(text, setting), problems);
  return host ? { apiHostname: host.apiHostname, siteId: host.siteId } : { apiHostname: '', siteId: '' };
}

/** The loopback-only Duo base URL of the bundled simulator, by the Duo client's rule; its origin. */
export function readInsecureDuoBaseUrl(value: RawValue, setting: string, problems: ProblemList): string | undefined {
  const text = readText(value, setting, LENGTH_LIMITS.url, problems);
  return text === undefined ? undefined : fromDuoRule(() => parseInsecureDuoBaseUrl(text, setting), problems);
}

/** The integration key of the Admin API application: letters and digits (Duo's are `DI` + 18). */
export function readIntegrationKey(value: RawValue, setting: string, problems: ProblemList): string {
  const key = readRequiredText(
    value,
    setting,
    LENGTH_LIMITS.integrationKey,
    'the integration key of your Duo Admin API application',
    problems,
  );
  if (key === undefined) return '';
  if (!/^[A-Za-z0-9]+$/.test(key)) {
    problems.add(
      setting,
      `must be the integration key of the Admin API application (letters and digits, like DIWJ8X6AEYOR5OMC6TQ1), not ${shown(key)}`,
    );
    return '';
  }
  return key;
}
