/** The Duo Admin API: client, endpoint and resource tables, signing, errors and wire types. */
export * from './client';
export * from './endpoints';
export * from './errors';
export * from './hostname';
export * from './rate-budget';
export * from './signing';
export * from './types';
export * from './validate';
