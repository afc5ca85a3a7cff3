/**
 * The worker's one HTTP listener (`duo-j1 worker --metrics host:port`), for Prometheus and for
 * Kubernetes probes:
 *
 *   GET /metrics   the SDK's Prometheus metrics
 *   GET /healthz   liveness: 200 while the process is starting, running or draining its workers;
 *                  503 once a worker has failed (the process is about to exit anyway)
 *   GET /readyz    readiness: 200 only while both workers poll their task queues; 503 while
 *                  connecting, after a shutdown signal, and once stopped
 *
 * The SDK serves its metrics from Temporal's native core, which cannot add routes; it listens on a
 * loopback port of its own, and this listener relays `/metrics` from there, so one port serves all.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export type WorkerPhase = 'starting' | 'polling' | 'draining' | 'stopped' | 'failed';

export interface HealthServer {
  close(): Promise<void>;
}

/** `host:port` as given on the command line; `[::1]:9464` for IPv6. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match || !match[1] || port > 65_535)
    throw new Error(`--metrics must be host:port, e.g. 0.0.0.0:9464 (got "${address}")`);
  return { host: match[1], port };
}

function answer(response: ServerResponse, code: number, body: string): void {
  response.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${body}\n`);
}

function relayMetrics(coreMetricsAddress: string, response: ServerResponse): void {
  const { host, port } = parseListenAddress(coreMetricsAddress);
  const upstream = request(
    { host, port, path: '/metrics', method: 'GET', timeout: 10_000 },
    (reply: IncomingMessage) => {
      response.writeHead(reply.statusCode ?? 502, { 'content-type': reply.headers['content-type'] ?? 'text/plain' });
      reply.pipe(response);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
  upstream.on('error', (error) => {
    if (!response.headersSent) answer(response, 502, `metrics unavailable: ${error.message}`);
    else response.destroy();
  });
  upstream.end();
}

/**
 * Listens on `address` (before the workers start, so that probes see "not ready" while the worker
 * connects). `coreMetricsAddress` is where the SDK's Prometheus exporter listens; `currentPhase`
 * says what the worker is doing at the time of each probe.
 */
export async function startHealthServer(
  address: string,
  coreMetricsAddress: string,
  currentPhase: () => WorkerPhase,
): Promise<HealthServer> {
  const { host, port } = parseListenAddress(address);
  const server: Server = createServer((incoming, response) => {
    const route = (incoming.url ?? '/').split('?')[0];
    const phase = currentPhase();
    if (incoming.method !== 'GET' && incoming.method !== 'HEAD') return answer(response, 405, 'GET only');
    if (route === '/metrics') return relayMetrics(coreMetricsAddress, response);
    if (route === '/healthz') return answer(response, phase === 'failed' ? 503 : 200, phase);
    if (route === '/readyz') return answer(response, phase === 'polling' ? 200 : 503, phase);
    return answer(response, 404, 'not found: /metrics, /healthz, /readyz');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
