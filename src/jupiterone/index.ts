/** JupiterOne synchronization API: client, batching, errors and wire types. */
export * from './base-url';
export * from './batching';
export * from './client';
export * from './errors';
export * from './job-events';
export { DEFAULT_RETRY_POLICY, type JupiterOneLogger, type JupiterOneLogLevel, type RetryPolicy } from './http';
export * from './types';
