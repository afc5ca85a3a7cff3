/**
 * Which hosts the client may send Duo credentials to.
 *
 * Only Duo's own API hosts, over HTTPS: `api-<id>.duosecurity.com` (commercial) or
 * `api-<id>.duofederal.com` (Duo Federal). The single exception is an explicitly configured
 * insecure base URL, accepted only when it points at this machine (loopback), which is how the
 * bundled simulator is reached by tests, the benchmark and sample mode.
 */
import { isIP } from 'node:net';
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
      `"${input}" is not a Duo API hostname; expected api-<id>.duosecurity.com or api-<id>.duofederal.com, ` +
        'as shown on the Admin API application page of the Duo Admin Panel.',
    );
  }
  return { apiHostname: hostname, siteId: match[1]!, federal: match[2] === 'duofederal' };
}

/** True for `localhost`, 127.0.0.0/8 and ::1 (including the IPv4-mapped form). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || host === '0:0:0:0:0:0:0:1';
  return false;
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
    throw new DuoConfigurationError(setting, `"${input}" is not a URL; expected e.g. http://127.0.0.1:8443.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DuoConfigurationError(setting, `only http:// or https:// URLs are accepted, not "${url.protocol}".`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new DuoConfigurationError(
      setting,
      `"${url.hostname}" is not a loopback address; this setting exists only to reach the bundled Duo simulator ` +
        'on this machine (127.0.0.1, ::1 or localhost). Unset it to talk to Duo.',
    );
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new DuoConfigurationError(setting, 'give only scheme, host and port (no path, query or credentials).');
  }
  return url.origin;
}
