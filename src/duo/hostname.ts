/**
 * Which hosts the client may send Duo credentials to.
 *
 * Only Duo's own API hosts, over HTTPS: `api-<id>.duosecurity.com` (commercial) or
 * `api-<id>.duofederal.com` (Duo Federal). The single exception is an explicitly configured
 * insecure base URL, accepted only when it points at this machine (loopback), which is how the
 * bundled simulator is reached by tests, the benchmark and sample mode.
 *
 * The configuration checks both settings with these same functions, so a value it accepts is one
 * the client accepts. Messages never quote a value that could be a secret pasted into the wrong
 * setting (see `describeValue`).
 */
import { describeValue } from '../util/redact';
import { isLoopbackHost } from '../util/loopback';
import { DuoConfigurationError } from './errors';

/** A validated Duo API hostname. */
export interface DuoApiHost {
  /** Lower-cased, e.g. `api-1a2b3c4d.duosecurity.com`; what requests are signed for. */
  apiHostname: string;
  /** The `<id>` part, e.g. `1a2b3c4d`; part of the account entity's key. */
  siteId: string;
  /** True for Duo Federal (`duofederal.com`). */
  federal: boolean;
}

const API_HOSTNAME_PATTERN = /^api-([a-z0-9]+)\.(duosecurity|duofederal)\.com$/;

/**
 * Validates a configured API hostname (a leading `https://` and a trailing `/` are tolerated).
 * Throws `DuoConfigurationError` naming `setting` when it is not a Duo API host.
 */
export function parseDuoApiHostname(input: string, setting = 'DUO_API_HOSTNAME'): DuoApiHost {
  const trimmed = input.trim();
  if (/^http:\/\//i.test(trimmed)) {
    throw new DuoConfigurationError(setting, 'Duo is reached over HTTPS only; give the hostname without "http://".');
  }
  const hostname = trimmed
    .replace(/^https:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  const match = API_HOSTNAME_PATTERN.exec(hostname);
  if (!match) {
    throw new DuoConfigurationError(
      setting,
      `${describeValue(input)} is not a Duo API hostname; expected api-<id>.duosecurity.com or api-<id>.duofederal.com, ` +
        'as shown on the Admin API application page of the Duo Admin Panel.',
    );
  }
  return { apiHostname: hostname, siteId: match[1]!, federal: match[2] === 'duofederal' };
}

/** The account's Admin Panel: `https://admin-<id>.duosecurity.com/` (or `.duofederal.com`). */
export function duoAdminPanelUrl(host: DuoApiHost): string {
  return `https://admin-${host.siteId}.${host.federal ? 'duofederal' : 'duosecurity'}.com/`;
}

/**
 * Validates the insecure base URL (`DUO_J1_INSECURE_DUO_BASE_URL`): http or https, a loopback
 * host, no path, query, fragment or user info. Returns its origin, e.g. `http://127.0.0.1:8443`.
 */
export function parseInsecureDuoBaseUrl(input: string, setting = 'DUO_J1_INSECURE_DUO_BASE_URL'): string {
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new DuoConfigurationError(
      setting,
      `${describeValue(input)} is not a URL; expected e.g. http://127.0.0.1:8443.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DuoConfigurationError(setting, `must be an http:// or https:// URL, not ${describeValue(url.protocol)}.`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new DuoConfigurationError(
      setting,
      `${describeValue(url.hostname)} is not a loopback address; this setting exists only to reach the bundled Duo simulator ` +
        'on this machine (127.0.0.1, ::1 or localhost). Unset it to talk to Duo.',
    );
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new DuoConfigurationError(
      setting,
      'must give only scheme, host and port (no path, query or credentials), e.g. http://127.0.0.1:8443.',
    );
  }
  return url.origin;
}
