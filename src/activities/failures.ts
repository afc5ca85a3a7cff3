/**
 * Turns the errors of our clients into Temporal failures, where they happen: the failure type is
 * what the workflow (and the person reading the Temporal UI) sees, and `nonRetryable` stops Temporal
 * from retrying what only a person can fix. Messages come from our own errors, which are built
 * without secrets.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ConfigurationError } from '../config/errors';
import {
  DuoAuthenticationError,
  DuoBadResponseError,
  DuoConfigurationError,
  DuoError,
  DuoIncompleteListError,
  DuoNetworkError,
  DuoNotFoundError,
  DuoPermissionError,
  DuoRateLimitError,
  DuoServerError,
} from '../duo/errors';
import { IncompleteDeliveryError } from '../graph/completeness';
import { JupiterOneError } from '../jupiterone/errors';
import { StagedInputMissingError } from '../staging/store';
import { FailureType } from '../workflows/contract';

/** An instance id that no worker configuration knows. */
export class UnknownInstanceError extends Error {
  constructor(
    readonly instanceId: string,
    known: string[],
  ) {
    super(
      `No Duo instance "${instanceId}" is configured on this worker (configured: ${known.join(', ') || 'none'}). ` +
        'Check the workflow input and the worker’s DUO_* variables or instances file.',
    );
    this.name = 'UnknownInstanceError';
  }
}

/** How long Temporal waits before retrying a fetch that Duo kept rate-limiting. */
const RATE_LIMIT_RETRY_DELAY = '60 seconds';

export function toApplicationFailure(error: unknown): unknown {
  if (error instanceof ApplicationFailure) return error;
  const message = error instanceof Error ? error.message : String(error);
  const fail = (
    type: string,
    nonRetryable: boolean,
    extra: Partial<Parameters<typeof ApplicationFailure.create>[0]> = {},
  ) => ApplicationFailure.create({ type, message, nonRetryable, cause: undefined, ...extra });

  if (error instanceof ConfigurationError || error instanceof DuoConfigurationError)
    return fail(FailureType.Configuration, true);
  if (error instanceof UnknownInstanceError) return fail(FailureType.UnknownInstance, true);
  if (error instanceof StagedInputMissingError) return fail(FailureType.StagedInputMissing, true);
  if (error instanceof IncompleteDeliveryError) return fail(FailureType.DeliveryIncomplete, true);
  if (error instanceof DuoAuthenticationError) return fail(FailureType.DuoAuthentication, true);
  if (error instanceof DuoPermissionError)
    return fail(FailureType.DuoPermission, true, { details: [{ grant: error.grant }] });
  if (error instanceof DuoRateLimitError)
    return fail(FailureType.DuoRateLimit, false, { nextRetryDelay: RATE_LIMIT_RETRY_DELAY });
  if (error instanceof DuoNotFoundError) return fail(FailureType.DuoNotFound, true);
  if (error instanceof DuoIncompleteListError) return fail(FailureType.DuoIncompleteList, true);
  if (error instanceof DuoServerError) return fail(FailureType.DuoServer, !error.retryable);
  if (error instanceof DuoNetworkError) return fail(FailureType.DuoNetwork, !error.retryable);
  if (error instanceof DuoBadResponseError) return fail(FailureType.DuoBadResponse, !error.retryable);
  if (error instanceof DuoError) return fail(FailureType.DuoApi, !error.retryable);
  if (error instanceof JupiterOneError)
    return fail(FailureType.JupiterOne, !error.retryable, { details: [{ code: error.code ?? null }] });
  return error;
}

/** Wraps an activity body so that every error it throws is classified. */
export async function classified<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toApplicationFailure(error);
  }
}
