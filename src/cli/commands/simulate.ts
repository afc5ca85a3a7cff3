/** `duo-j1 simulate duo|jupiterone`: a bundled simulator on loopback until Ctrl-C. */
import { runDuoSimulatorCli } from '../../simulators/duo/cli';
import { runJupiterOneSimulatorCommand } from '../../simulators/jupiterone/cli';
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
  phones?: string;
  tokens?: string;
  webauthn?: string;
  groups?: string;
  admins?: string;
  integrations?: string;
  errorRate: string;
  resetRate: string;
  shortPages?: boolean;
}

export async function simulateDuoCommand(flags: SimulateDuoFlags): Promise<number> {
  const simulator = await runDuoSimulatorCli({
    users: number(flags.users, '--users', { min: 1 })!,
    seed: number(flags.seed, '--seed'),
    port: number(flags.port, '--port'),
    latencyMs: number(flags.latencyMs, '--latency-ms'),
    rateLimit: number(flags.rateLimit, '--rate-limit', { min: 1 }),
    serverErrorRate: fraction(flags.errorRate, '--error-rate'),
    connectionResetRate: fraction(flags.resetRate, '--reset-rate'),
    shortPages: flags.shortPages,
    counts: {
      phones: number(flags.phones, '--phones'),
      tokens: number(flags.tokens, '--tokens'),
      webauthn: number(flags.webauthn, '--webauthn'),
      groups: number(flags.groups, '--groups'),
      admins: number(flags.admins, '--admins'),
      integrations: number(flags.integrations, '--integrations'),
    },
  });
  await untilStopped();
  await simulator.close();
  return ExitCode.Success;
}

export async function simulateJupiterOneCommand(flags: {
  port: string;
  errorRate: string;
  rateLimitRate: string;
}): Promise<number> {
  const simulator = await runJupiterOneSimulatorCommand({
    port: number(flags.port, '--port'),
    faults: {
      serverErrorRate: fraction(flags.errorRate, '--error-rate'),
      rateLimitRate: fraction(flags.rateLimitRate, '--rate-limit-rate'),
    },
  });
  await untilStopped();
  await simulator.close();
  return ExitCode.Success;
}
