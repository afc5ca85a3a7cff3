/**
 * What counts as this machine. Plain HTTP and the bundled simulators are allowed only there: the
 * insecure Duo base URL, an http:// JupiterOne base URL, and the simulators' control routes.
 */
import { isIP } from 'node:net';

/** True for `localhost`, 127.0.0.0/8 and ::1 (bracketed or not, and the IPv4-mapped form). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) {
    // WHATWG URLs write the IPv4-mapped form in hex (`[::ffff:7f00:1]`), sockets in dots.
    return (
      host === '::1' ||
      host === '0:0:0:0:0:0:0:1' ||
      /^::ffff:127\./.test(host) ||
      /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host)
    );
  }
  return false;
}
