/**
 * What `duo-j1 simulate duo` runs: generate a tenant, start the simulator, and print ONE JSON line
 * with what a client needs (URL, API hostname, test credentials) once it is listening. The
 * command wiring (flags, signals) lives in the CLI; this stays a plain function so tests and
 * sample mode can call it too.
 */
import { generateTenant, type GenerateTenantOptions } from './tenant-generator';
import { startDuoSimulator, type DuoSimulator, type DuoSimulatorFaults } from './server';

export interface DuoSimulatorCliOptions {
  /** Users in the generated tenant. */
  users: number;
  /** Tenant seed. Default 1. */
  seed?: number;
  /** Default 0 (a free port; the printed URL tells which). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  latencyMs?: number;
  /** Requests per minute per integration key and endpoint; default unlimited. */
  rateLimit?: number;
  /** Requests per minute per integration key on each log endpoint; default 2, as Duo. */
  logRateLimit?: number;
  /** The authentication log's events per minute; default one per 100 users. */
  logEventsPerMinute?: number;
  /** Seconds before an event is served; default 120, as Duo. */
  logDelaySeconds?: number;
  shortPages?: boolean;
  serverErrorRate?: number;
  connectionResetRate?: number;
  malformedBodyRate?: number;
  /** Any of the simulator's faults (see `DuoSimulatorFaults`); wins over the shorthands above. */
  faults?: DuoSimulatorFaults;
  /** Seed of the fault dice. Default 1. */
  faultSeed?: number;
  /** Counts of the other resources; default: in proportion to users (see `generateTenant`). */
  counts?: Omit<GenerateTenantOptions, 'users' | 'seed'>;
  /** Fixed test credentials instead of random ones. */
  integrationKey?: string;
  secretKey?: string;
}

/** The line printed once the simulator listens. */
export interface DuoSimulatorAnnouncement {
  url: string;
  apiHostname: string;
  integrationKey: string;
  secretKey: string;
}

/**
 * Starts the simulator and writes its announcement as one JSON line to `output` (stdout by
 * default). Returns the running simulator; the caller closes it (for example on SIGINT).
 */
export async function runDuoSimulatorCli(
  options: DuoSimulatorCliOptions,
  output: { write(text: string): unknown } = process.stdout,
): Promise<DuoSimulator> {
  const tenant = generateTenant({ ...options.counts, users: options.users, seed: options.seed ?? 1 });
  const logDelayMs = options.logDelaySeconds === undefined ? undefined : options.logDelaySeconds * 1000;
  const simulator = await startDuoSimulator({
    tenant,
    host: options.host,
    port: options.port,
    latencyMs: options.latencyMs,
    requestsPerMinute: options.rateLimit,
    logRequestsPerMinute: options.logRateLimit ?? 2,
    authenticationLog: { eventsPerMinute: options.logEventsPerMinute, delayMs: logDelayMs },
    // Duo delays every log alike.
    administrationLog: { delayMs: logDelayMs },
    trustMonitor: { delayMs: logDelayMs },
    integrationKey: options.integrationKey,
    secretKey: options.secretKey,
    faults: withoutUndefined({
      shortPages: options.shortPages,
      serverErrorRate: options.serverErrorRate,
      connectionResetRate: options.connectionResetRate,
      malformedBodyRate: options.malformedBodyRate,
      ...options.faults,
    }),
    faultSeed: options.faultSeed,
  });
  const announcement: DuoSimulatorAnnouncement = {
    url: simulator.url,
    apiHostname: simulator.apiHostname,
    integrationKey: simulator.integrationKey,
    secretKey: simulator.secretKey,
  };
  output.write(`${JSON.stringify(announcement)}\n`);
  return simulator;
}

/** The settings that were given, so that reading them back (`GET /__sim/faults`) shows only those. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
