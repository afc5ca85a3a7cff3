/**
 * A bundled simulator in a process of its own, driven by the benchmark over stdin/stdout, so the
 * simulator's CPU and memory are not counted in the worker's figures.
 *
 *   node dist/bench/simulator-process.js duo '<DuoSimulatorProcessOptions JSON>'
 *   node dist/bench/simulator-process.js jupiterone
 *
 * (from the sources: `node --require tsx/cjs src/bench/simulator-process.ts …`).
 *
 * Once listening it prints one JSON line (its announcement). The Duo simulator then answers each
 * `report` line on stdin with one JSON line summarising its request log. Either stops when stdin
 * closes (the benchmark ended or died) or on SIGINT/SIGTERM.
 */
import { createInterface } from 'node:readline';
import { DUO_LIST_ENDPOINTS } from '../resources/table';
import { startDuoSimulator } from '../simulators/duo/server';
import { generateTenant } from '../simulators/duo/tenant-generator';
import { startJupiterOneSimulator } from '../simulators/jupiterone/server';
import { summariseRequestLog, type BenchTenantCounts, type DuoRequestSummary } from './figures';

export interface DuoSimulatorProcessOptions {
  users: number;
  seed: number;
  counts: BenchTenantCounts;
  latencyMs: number;
  /** Per endpoint; 0 = unlimited. */
  requestsPerMinute: number;
  burst: number;
  /** The authentication log's events per minute over one day of history; 0 = none. */
  logEventsPerMinute: number;
}

/** The first line the Duo simulator process prints. */
export interface DuoSimulatorProcessAnnouncement {
  url: string;
  apiHostname: string;
  integrationKey: string;
  secretKey: string;
  /** Records the tenant holds per list endpoint path: the input of the lower bound. */
  recordsByPath: Record<string, number>;
}

/** The first line the JupiterOne simulator process prints. */
export interface JupiterOneSimulatorProcessAnnouncement {
  url: string;
  apiKey: string;
  account: string;
}

export type DuoSimulatorProcessReport = DuoRequestSummary;

async function serveDuo(options: DuoSimulatorProcessOptions): Promise<() => Promise<void>> {
  const tenant = generateTenant({ users: options.users, seed: options.seed, ...options.counts });
  const simulator = await startDuoSimulator({
    tenant,
    latencyMs: options.latencyMs,
    requestsPerMinute: options.requestsPerMinute > 0 ? options.requestsPerMinute : undefined,
    rateLimitBurst: options.burst,
    ...(options.logEventsPerMinute > 0
      ? {
          authenticationLog: {
            eventsPerMinute: options.logEventsPerMinute,
            historyMs: 24 * 3600_000,
            seed: options.seed,
          },
        }
      : {}),
  });
  const recordsByPath: Record<string, number> = {};
  for (const endpoint of Object.values(DUO_LIST_ENDPOINTS)) {
    recordsByPath[endpoint.path] = (tenant[endpoint.name] as unknown[]).length;
  }
  const announcement: DuoSimulatorProcessAnnouncement = {
    url: simulator.url,
    apiHostname: simulator.apiHostname,
    integrationKey: simulator.integrationKey,
    secretKey: simulator.secretKey,
    recordsByPath,
  };
  process.stdout.write(`${JSON.stringify(announcement)}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() !== 'report') return;
    const report: DuoSimulatorProcessReport = summariseRequestLog(simulator.requestLog);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  });
  return () => simulator.close();
}

async function serveJupiterOne(): Promise<() => Promise<void>> {
  const simulator = await startJupiterOneSimulator();
  const announcement: JupiterOneSimulatorProcessAnnouncement = {
    url: simulator.url,
    apiKey: simulator.apiKey,
    account: simulator.account,
  };
  process.stdout.write(`${JSON.stringify(announcement)}\n`);
  return () => simulator.close();
}

async function main(): Promise<void> {
  const [kind, json] = process.argv.slice(2);
  const close =
    kind === 'duo'
      ? await serveDuo(JSON.parse(json ?? '{}') as DuoSimulatorProcessOptions)
      : kind === 'jupiterone'
        ? await serveJupiterOne()
        : undefined;
  if (!close) throw new Error(`simulator-process: the first argument must be duo or jupiterone, not "${kind}"`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void close().finally(() => process.exit(0));
  };
  // The benchmark holds our stdin open while it runs: its end means the benchmark is gone.
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
