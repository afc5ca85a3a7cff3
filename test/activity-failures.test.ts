import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { UnknownInstanceError, toApplicationFailure } from '../src/activities/failures';
import { ConfigurationError } from '../src/config/errors';
import {
  DuoApiError,
  DuoAuthenticationError,
  DuoBadResponseError,
  DuoConfigurationError,
  DuoIncompleteListError,
  DuoNetworkError,
  DuoNotFoundError,
  DuoPermissionError,
  DuoRateLimitError,
  DuoServerError,
} from '../src/duo/errors';
import { IncompleteDeliveryError } from '../src/graph/completeness';
import { JupiterOneError } from '../src/jupiterone/errors';
import { StagedInputMissingError } from '../src/staging/store';
import { FailureType } from '../src/workflows/contract';

const request = { method: 'GET', path: '/admin/v1/users', apiHostname: 'api-1a2b3c4d.duosecurity.com' };

describe('activity failures', () => {
  it('gives every error of ours a failure type the workflow contract declares', () => {
    const errors: [Error, string][] = [
      [new ConfigurationError([{ setting: 'DUO_API_HOSTNAME', message: 'is missing' }]), FailureType.Configuration],
      [new DuoConfigurationError('DUO_SECRET_KEY', 'is empty'), FailureType.Configuration],
      [new UnknownInstanceError('gone', ['corp']), FailureType.UnknownInstance],
      [new StagedInputMissingError('run', 'converted/users', 'gone'), FailureType.StagedInputMissing],
      [
        new IncompleteDeliveryError('JupiterOne', [{ type: 'duo_user', built: 2, delivered: 1 }]),
        FailureType.DeliveryIncomplete,
      ],
      [new DuoAuthenticationError(request, 40103, 'Invalid signature'), FailureType.DuoAuthentication],
      [new DuoPermissionError(request, 40301, undefined, 'Grant read resource'), FailureType.DuoPermission],
      [new DuoRateLimitError(request, 42901, undefined, 7), FailureType.DuoRateLimit],
      [new DuoNotFoundError(request, 40401, undefined), FailureType.DuoNotFound],
      [new DuoServerError(request, 503, 50301, undefined, 3), FailureType.DuoServer],
      [new DuoNetworkError(request, 'ECONNRESET', 'socket hang up', 3), FailureType.DuoNetwork],
      [new DuoBadResponseError(request, 200, 'the body is not JSON', 3), FailureType.DuoBadResponse],
      [new DuoApiError(request, 400, 40002, 'Invalid request parameters'), FailureType.DuoApi],
      [
        new DuoIncompleteListError(request, { reason: 'empty-page', offset: 300, nextOffset: 600 }),
        FailureType.DuoIncompleteList,
      ],
      [new JupiterOneError('JupiterOne answered 500', { status: 500, retryable: true }), FailureType.JupiterOne],
    ];
    const declared = new Set<string>(Object.values(FailureType));
    for (const [error, type] of errors) {
      const failure = toApplicationFailure(error);
      assert.ok(failure instanceof ApplicationFailure, error.name);
      assert.equal(failure.type, type, error.name);
      assert.ok(declared.has(failure.type!), `${failure.type} is declared`);
      assert.equal(failure.nonRetryable, !('retryable' in error && error.retryable === true), error.name);
    }
  });
});
