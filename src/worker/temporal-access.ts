/**
 * Reaching Temporal before a worker starts polling, so that a worker that cannot work says why
 * within seconds, naming the setting to fix — instead of retrying in silence: the SDK retries a
 * refused poll (a missing permission, a rejected API key) for a minute before giving up, and a
 * worker on a namespace that does not exist never polls at all.
 *
 *  1. connect, retrying a server that cannot be reached for a few seconds (a frontend restarting);
 *  2. describe the namespace: it exists and this identity may read it;
 *  3. poll once, on a queue of its own that never has tasks, with a deadline shorter than any long
 *     poll: the server checks permissions first, so a refusal comes back at once, and a permitted
 *     poll ends at once without taking anything.
 */
import { isGrpcServiceError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from './connection';

/** The gRPC status codes met here (grpc/doc/statuscodes.md). */
const status = {
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** How long an unreachable server is retried before the worker gives up. */
export const CONNECT_RETRY_MS = 8_000;
const CHECK_DEADLINE_MS = 5_000;
/** Shorter than the server's shortest long poll: the poll is refused as too short, or for permissions. */
const POLL_CHECK_DEADLINE_MS = 1_000;

const ADDRESS_SETTING = 'TEMPORAL_ADDRESS (or --address, or the address of your Temporal profile)';
const NAMESPACE_SETTING = 'TEMPORAL_NAMESPACE (or --namespace)';
const TLS_SETTING = 'TEMPORAL_TLS and TEMPORAL_TLS_* (client certificate and key, server CA, server name)';
const CREDENTIAL_SETTING = 'TEMPORAL_API_KEY (or the TLS client certificate, TEMPORAL_TLS_CLIENT_CERT_PATH)';

/** Why a worker cannot work against this Temporal, and which setting to change. */
export class TemporalAccessError extends Error {
  constructor(
    message: string,
    readonly setting: string,
  ) {
    super(message);
    this.name = 'TemporalAccessError';
  }
}

function grpcCode(error: unknown): number | undefined {
  return isGrpcServiceError(error) ? error.code : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A failure of the TLS handshake, as the SDK's native transport words it. */
function isTlsFailure(error: unknown): boolean {
  return /tls|ssl|certificate|handshake|InvalidContentType|InvalidMessage|UnknownIssuer/i.test(errorText(error));
}

/** The connection could not be made at all (refused, no such host, timed out). */
function isUnreachable(error: unknown): boolean {
  if (grpcCode(error) === status.UNAVAILABLE || grpcCode(error) === status.DEADLINE_EXCEEDED)
    return !isTlsFailure(error);
  return error instanceof Error && error.name === 'TransportError' && !isTlsFailure(error);
}

/** Turns a failure to reach or use Temporal into the error naming the setting to fix, when it is one. */
export function explainTemporalFailure(error: unknown, settings: TemporalSettings): Error {
  if (error instanceof TemporalAccessError) return error;
  const code = grpcCode(error);
  const detail = errorText(error);
  if (isTlsFailure(error))
    return new TemporalAccessError(
      `The TLS connection to Temporal at ${settings.address} failed (${detail}): check ${TLS_SETTING}, and whether this server expects TLS at all.`,
      TLS_SETTING,
    );
  if (isUnreachable(error))
    return new TemporalAccessError(
      `Temporal cannot be reached at ${settings.address} (${detail}): check ${ADDRESS_SETTING}.`,
      ADDRESS_SETTING,
    );
  if (code === status.UNAUTHENTICATED)
    return new TemporalAccessError(
      `Temporal at ${settings.address} rejected this worker's credentials (${detail}): check ${CREDENTIAL_SETTING}.`,
      CREDENTIAL_SETTING,
    );
  if (code === status.PERMISSION_DENIED)
    return new TemporalAccessError(
      `This worker's identity may not use namespace "${settings.namespace}" as a worker (${detail}): grant the identity of ${CREDENTIAL_SETTING} permission to poll in that namespace.`,
      CREDENTIAL_SETTING,
    );
  if (code === status.NOT_FOUND && /namespace/i.test(detail))
    return new TemporalAccessError(
      `Temporal namespace "${settings.namespace}" does not exist at ${settings.address}: set ${NAMESPACE_SETTING} to an existing namespace.`,
      NAMESPACE_SETTING,
    );
  return error instanceof Error ? error : new Error(detail);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The workers' connection (`NativeConnection`), with the settings `resolveTemporalSettings` gives. */
export function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect({
    address: settings.address,
    tls: settings.tls as never,
    apiKey: settings.apiKey,
    metadata: settings.metadata,
  });
}

/**
 * The workers' connection, after retrying an unreachable server for up to `retryForMs`. Rejects
 * with a `TemporalAccessError` naming the setting when the server stays unreachable or refuses.
 */
export async function connectWorkerChecked(
  settings: TemporalSettings,
  options: { retryForMs?: number; onRetry?: (error: Error) => void } = {},
): Promise<NativeConnection> {
  const giveUpAt = Date.now() + (options.retryForMs ?? CONNECT_RETRY_MS);
  for (let wait = 250; ; wait = Math.min(wait * 2, 2_000)) {
    try {
      return await connectWorker(settings);
    } catch (error) {
      if (!isUnreachable(error) || Date.now() + wait > giveUpAt) throw explainTemporalFailure(error, settings);
      options.onRetry?.(explainTemporalFailure(error, settings));
      await pause(wait);
    }
  }
}

/** Checks that the namespace exists and that this identity may poll in it (see the top of this file). */
export async function checkWorkerAccess(
  connection: NativeConnection,
  settings: TemporalSettings,
  taskQueue: string,
): Promise<void> {
  const { namespace } = settings;
  try {
    await connection.withDeadline(Date.now() + CHECK_DEADLINE_MS, () =>
      connection.workflowService.describeNamespace({ namespace }),
    );
  } catch (error) {
    throw explainTemporalFailure(error, settings);
  }
  try {
    await connection.withDeadline(Date.now() + POLL_CHECK_DEADLINE_MS, () =>
      connection.workflowService.pollActivityTaskQueue({
        namespace,
        taskQueue: { name: `${taskQueue}-access-check` },
        identity: 'duo-j1 access check',
      }),
    );
  } catch (error) {
    const code = grpcCode(error);
    if (code === status.PERMISSION_DENIED || code === status.UNAUTHENTICATED || code === status.NOT_FOUND)
      throw explainTemporalFailure(error, settings);
    // Refused as too short, or ended by the deadline: polling is permitted.
  }
}
