/**
 * The simulators' control route, `/__sim/faults`: read (GET) or replace (PUT) the fault settings of
 * a running simulator, so that any fault can be switched on and off from a shell while a run goes
 * on. It is not part of Duo's or JupiterOne's API: it answers only requests from this machine,
 * needs no credentials, and is not written to the request log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopbackHost } from '../util/loopback';
import { FaultSettingsError } from './fault-json';

export const FAULTS_CONTROL_PATH = '/__sim/faults';

/** Fault settings bodies are a few lines of JSON; anything larger is refused unread. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface FaultsControl<T> {
  /** The settings in force, as a PUT would give them. */
  current(): T;
  /** Checks a PUT body; throws `FaultSettingsError` naming every problem. */
  parse(body: string): T;
  /** Puts checked settings in force, replacing all the previous ones. */
  replace(settings: T): void;
}

/** True when `url` (a request's path and query) is the control route. */
export function isControlRequest(url: string | undefined): boolean {
  const path = (url ?? '/').split('?')[0];
  return path === FAULTS_CONTROL_PATH;
}

/** Answers a request to the control route. */
export async function serveFaultsControl<T>(
  request: IncomingMessage,
  response: ServerResponse,
  control: FaultsControl<T>,
): Promise<void> {
  const answer = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };
  const refuse = (status: number, code: string, message: string, problems?: string[]) => {
    request.resume();
    answer(status, { error: { code, message, ...(problems ? { problems } : {}) } });
  };
  if (!isLoopbackHost(request.socket.remoteAddress ?? '')) {
    refuse(403, 'LOOPBACK_ONLY', `${FAULTS_CONTROL_PATH} answers requests from this machine only.`);
    return;
  }
  if (request.method === 'GET') {
    request.resume();
    answer(200, control.current());
    return;
  }
  if (request.method !== 'PUT') {
    response.setHeader('allow', 'GET, PUT');
    refuse(405, 'METHOD_NOT_ALLOWED', `${FAULTS_CONTROL_PATH} takes GET (read the faults) or PUT (replace them).`);
    return;
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (bytes > MAX_BODY_BYTES) {
    refuse(413, 'TOO_LARGE', `Fault settings are at most ${MAX_BODY_BYTES} bytes.`);
    return;
  }
  let settings: T;
  try {
    settings = control.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    if (!(error instanceof FaultSettingsError)) throw error;
    refuse(400, 'INVALID_FAULTS', error.message, error.problems);
    return;
  }
  control.replace(settings);
  answer(200, control.current());
}
