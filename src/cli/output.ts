import { ConfigurationError } from '../config/errors';
import { FaultSettingsError } from '../simulators/fault-json';
import { ExitCode } from './exit-codes';

/** Prints data as one JSON document (for `--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Prints an error a person can act on and returns the exit code that fits it. */
export function reportError(error: unknown): ExitCode {
  if (error instanceof ConfigurationError || error instanceof FaultSettingsError) {
    process.stderr.write(`${error.message}\n`);
    return ExitCode.Usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Error: ${message}\n`);
  return ExitCode.Failure;
}
