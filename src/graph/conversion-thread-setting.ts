/**
 * The setting that switches the worker's conversion thread (page-conversion.ts) on or off, in a
 * module of its own so that what only needs its name (the bench, passing it to the worker it
 * starts) does not load the converters.
 */
import { ConfigurationError } from '../config/errors';

/**
 * The environment setting that switches the conversion thread off (`off`) or on (`on`, the default:
 * an unthrottled 100,000-user fetch takes about a quarter less time with it, for a few CPU-seconds
 * and some tens of MB more; docs/benchmarks.md). Off suits a worker given a single core.
 */
export const CONVERSION_THREAD_SETTING = 'DUO_J1_CONVERSION_THREAD';

/** Whether `env` leaves the conversion thread on. */
export function conversionThreadOn(env: NodeJS.ProcessEnv = process.env): boolean {
  const setting = (env[CONVERSION_THREAD_SETTING] ?? '').trim().toLowerCase();
  if (setting === '' || setting === 'on') return true;
  if (setting === 'off') return false;
  throw new ConfigurationError([
    { setting: CONVERSION_THREAD_SETTING, message: `must be on or off (got "${setting}")` },
  ]);
}
