/** JupiterOne synchronization API: client, batching, errors and wire types. */
export * from './batching';
export * from './client';
export * from './errors';
export {
  DEFAULT_JUPITERONE_API_BASE_URL,
  DEFAULT_RETRY_POLICY,
  parseJupiterOneBaseUrl,
  type JupiterOneLogger,
  type JupiterOneLogLevel,
  type RetryPolicy,
} from './http';
export * from './types';
