/**
 * `duo-j1 simulate duo|jupiterone`: a bundled simulator on loopback until Ctrl-C, with any of its
 * faults switched on from the start (`--faults`) and changeable while it runs (`/__sim/faults`).
 */
import { readFileSync } from 'node:fs';
import { FAULTS_CONTROL_PATH } from '../../simulators/control-route';
import { runDuoSimulatorCli } from '../../simulators/duo/cli';
import { parseDuoSimulatorFaults } from '../../simulators/duo/faults';
import { FaultSettingsError } from '../../simulators/fault-json';
import { runJupiterOneSimulatorCommand } from '../../simulators/jupiterone/cli';
import { parseJupiterOneFaultSettings } from '../../simulators/jupiterone/faults';
import { ExitCode } from '../exit-codes';

function number(value: string | undefined, flag: string, { min = 0, integer = true } = {}): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || (integer && !Number.isInteger(parsed))) {
    throw new Error(`${flag} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}, not "${value}"`);
  }
  return parsed;
}

function fraction(value: string | undefined, flag: string): number | undefined {
  const parsed = number(value, flag, { integer: false });
  if (parsed !== undefined && parsed > 1) throw new Error(`${flag} must be between 0 and 1, not "${value}"`);
  return parsed;
}

/**
 * The `--faults` value checked by `parse`: JSON text, or `@file` for a file holding it. Problems
 * throw `FaultSettingsError`, a usage error (exit 2).
 */
function faultsFlag<T>(value: string | undefined, parse: (json: string) => T): T | undefined {
  if (value === undefined) return undefined;
  if (!value.startsWith('@')) return parse(value);
  let json: string;
  try {
    json = readFileSync(value.slice(1), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new FaultSettingsError([`--faults names the file ${value.slice(1)}, which cannot be read (${code})`]);
  }
  return parse(json);
}

/** Tells a person at the terminal how to change the faults of the running simulator. */
function announceControl(url: string, example: string): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(
    `Faults: read with "curl ${url}${FAULTS_CONTROL_PATH}", replace with "curl -X PUT --data '${example}' ${url}${FAULTS_CONTROL_PATH}".\n`,
  );
}

/** Resolves when the process is asked to stop (Ctrl-C or SIGTERM). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export interface SimulateDuoFlags {
  users: string;
  seed: string;
  port: string;
  latencyMs: string;
  rateLimit?: string;
  logRateLimit?: string;
  logEventsPerMinute?: string;
  logDelaySeconds?: string;
  phones?: string;
  tokens?: string;
  webauthn?: string;
  groups?: string;
  admins?: string;
  integrations?: string;
  bypassCodes?: string;
  endpoints?: string;
  policies?: string;
  adminUnits?: string;
  errorRate: string;
  resetRate: string;
  shortPages?: boolean;
  faults?: string;
  faultSeed?: string;
}

export async function simulateDuoCommand(flags: SimulateDuoFlags): Promise<number> {
  const simulator = await runDuoSimulatorCli({
    users: number(flags.users, '--users', { min: 1 })!,
    seed: number(flags.seed, '--seed'),
    port: number(flags.port, '--port'),
    latencyMs: number(flags.latencyMs, '--latency-ms'),
    rateLimit: number(flags.rateLimit, '--rate-limit', { min: 1 }),
    logRateLimit: number(flags.logRateLimit, '--log-rate-limit', { min: 1 }),
    logEventsPerMinute: number(flags.logEventsPerMinute, '--log-events-per-minute', { min: 1 }),
    logDelaySeconds: number(flags.logDelaySeconds, '--log-delay-seconds'),
    serverErrorRate: fraction(flags.errorRate, '--error-rate'),
    connectionResetRate: fraction(flags.resetRate, '--reset-rate'),
    shortPages: flags.shortPages,
    faults: faultsFlag(flags.faults, parseDuoSimulatorFaults),
    faultSeed: number(flags.faultSeed, '--fault-seed'),
    counts: {
      phones: number(flags.phones, '--phones'),
      tokens: number(flags.tokens, '--tokens'),
      webauthn: number(flags.webauthn, '--webauthn'),
      groups: number(flags.groups, '--groups'),
      admins: number(flags.admins, '--admins'),
      integrations: number(flags.integrations, '--integrations'),
      bypassCodes: number(flags.bypassCodes, '--bypass-codes'),
      endpoints: number(flags.endpoints, '--endpoints'),
      policies: number(flags.policies, '--policies'),
      adminUnits: number(flags.adminUnits, '--admin-units'),
    },
  });
  announceControl(simulator.url, '{"serverErrorRate":0.1}');
  await untilStopped();
  await simulator.close();
  return ExitCode.Success;
}

export async function simulateJupiterOneCommand(flags: {
  port: string;
  errorRate: string;
  rateLimitRate: string;
  faults?: string;
}): Promise<number> {
  const { scheduled, ...faults } = faultsFlag(flags.faults, parseJupiterOneFaultSettings) ?? {};
  const simulator = await runJupiterOneSimulatorCommand({
    port: number(flags.port, '--port'),
    faults: {
      serverErrorRate: fraction(flags.errorRate, '--error-rate'),
      rateLimitRate: fraction(flags.rateLimitRate, '--rate-limit-rate'),
      ...faults,
    },
    scheduledFaults: scheduled,
  });
  announceControl(simulator.url, '{"scheduled":[{"kind":"reset-after-processing","route":"start-job"}]}');
  await untilStopped();
  await simulator.close();
  return ExitCode.Success;
}
