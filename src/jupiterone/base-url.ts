/**
 * Where JupiterOne is: the default API base URL and the one rule for a configured one. Every
 * request carries the API key, so HTTPS is required; plain HTTP is accepted only for loopback
 * addresses (the bundled simulator). The configuration checks the setting with this same rule,
 * so a URL it accepts is one the client accepts.
 */
import { isLoopbackHost } from '../util/loopback';
import { describeValue } from '../util/redact';
import { JupiterOneConfigurationError } from './errors';

export const DEFAULT_JUPITERONE_API_BASE_URL = 'https://api.us.jupiterone.io';

/** What is wrong with a base URL (to follow the setting's name in a message), or undefined when it is usable. */
export function jupiterOneBaseUrlProblem(baseUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return `${describeValue(baseUrl)} is not a valid URL; use e.g. ${DEFAULT_JUPITERONE_API_BASE_URL}.`;
  }
  if (url.username || url.password || url.search || url.hash) {
    return 'must not contain credentials, a query or a fragment; give only scheme, host and optional path.';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return `must use https:// (got ${describeValue(`${url.protocol}//${url.host}`)}); plain http is accepted only for loopback addresses.`;
  }
  return undefined;
}

/** The base URL as a `URL`; throws `JupiterOneConfigurationError` naming `setting` when it is unusable. */
export function parseJupiterOneBaseUrl(baseUrl: string, setting = 'JUPITERONE_API_BASE_URL'): URL {
  const problem = jupiterOneBaseUrlProblem(baseUrl);
  if (problem !== undefined) throw new JupiterOneConfigurationError(`${setting} ${problem}`, setting);
  return new URL(baseUrl);
}
