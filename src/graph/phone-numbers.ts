/**
 * Phone numbers are personal data. An instance's `phoneNumbers` setting says what the graph holds
 * of them — `keep` (as Duo sends them, what graph-duo did), `hash` or `omit` — and it applies to
 * every field the resource table names as holding one (`phoneNumberFields`), in the record itself,
 * before it is converted: what is left out or hashed there is in no property, no `_rawData`, no
 * staged file and no upload.
 *
 * Hashing is keyed. A phone number has few enough possible values (about 10^10 per country) that
 * a plain or salted SHA-256 of one is reversed by trying them all in minutes; an HMAC is not, as
 * long as its key is secret. The key is derived (HKDF-SHA-256) from the instance's Duo secret key
 * and its site id: nothing new to configure or keep, the same on every worker and run (so the
 * hashes are stable and queries and joins on them keep working), different per Duo account, and
 * useless to whoever reads the graph — while whoever holds the Duo secret key can read the numbers
 * from Duo anyway. Rotating the Duo secret key changes every hash once. The key never leaves the
 * worker: what is staged and compared between runs is a fingerprint of it (`describePhoneNumberRule`).
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';

export const PHONE_NUMBER_POLICIES = ['keep', 'hash', 'omit'] as const;
export type PhoneNumberPolicy = (typeof PHONE_NUMBER_POLICIES)[number];

/** What conversion does with phone numbers; `key` (hex) only for `hash`. */
export type PhoneNumberRule = { policy: 'keep' } | { policy: 'omit' } | { policy: 'hash'; key: string };

/** How a hashed number starts: says what it is, so nobody takes it for a number. */
export const PHONE_NUMBER_HASH_PREFIX = 'hmac-sha256:';

/** Hex digits of the HMAC kept: 128 bits, far beyond any chance of two numbers colliding. */
const HASH_HEX_DIGITS = 32;

/** The instance's hashing key (hex), derived from its Duo secret key and site id. */
export function phoneNumberHashKey(duoSecretKey: string, siteId: string): string {
  return Buffer.from(hkdfSync('sha256', duoSecretKey, siteId, 'duo-j1 phone number hashing', 32)).toString('hex');
}

/**
 * The hash of a phone number: punctuation and spaces are ignored (`+1 555-555-0100` and
 * `+15555550100` hash alike), so the same number hashes the same wherever Duo writes it.
 */
export function hashPhoneNumber(value: string, key: string): string {
  const digits = value.replace(/[^\d+]/g, '');
  const normalised = /\d/.test(digits) ? digits : value.trim();
  const mac = createHmac('sha256', Buffer.from(key, 'hex')).update(normalised).digest('hex');
  return `${PHONE_NUMBER_HASH_PREFIX}${mac.slice(0, HASH_HEX_DIGITS)}`;
}

/**
 * The rule as it may be written down (staged, compared between a fetch and the build): the
 * policy, and for `hash` a fingerprint of the key — never the key.
 */
export function describePhoneNumberRule(rule: PhoneNumberRule | undefined): string {
  if (!rule || rule.policy !== 'hash') return rule?.policy ?? 'keep';
  return `hash:${createHash('sha256').update(`duo-j1 phone number key ${rule.key}`).digest('hex').slice(0, 16)}`;
}

/**
 * The record with the rule applied to each of `fields` (paths: `phone`, `settings.caller_id`,
 * `phones[].number`). Copy on write: the input is never modified, and a record with nothing to
 * change is returned as it is. Only non-empty strings are phone numbers (an empty `number` is a
 * tablet's).
 */
export function withPhoneNumberRule<T>(record: T, fields: readonly string[], rule: PhoneNumberRule | undefined): T {
  if (!rule || rule.policy === 'keep' || fields.length === 0) return record;
  let result: unknown = record;
  for (const field of fields) result = applyAt(result, field.split('.'), rule);
  return result as T;
}

function applyAt(value: unknown, path: readonly string[], rule: PhoneNumberRule): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const [segment, ...rest] = path;
  const eachItem = segment.endsWith('[]');
  const name = eachItem ? segment.slice(0, -2) : segment;
  const object = value as Record<string, unknown>;
  if (!(name in object)) return value;
  const current = object[name];
  let next: unknown;
  if (eachItem) {
    if (!Array.isArray(current)) return value;
    const items = current.map((item) => (rest.length === 0 ? item : applyAt(item, rest, rule)));
    next = items.some((item, index) => item !== current[index]) ? items : current;
  } else if (rest.length > 0) {
    next = applyAt(current, rest, rule);
  } else {
    if (typeof current !== 'string' || current.trim() === '') return value;
    if (rule.policy === 'omit') {
      const { [name]: _left, ...without } = object;
      return without;
    }
    next = rule.policy === 'hash' ? hashPhoneNumber(current, rule.key) : current;
  }
  return next === current ? value : { ...object, [name]: next };
}
