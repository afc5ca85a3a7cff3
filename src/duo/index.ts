/** The Duo Admin API: client, signing, errors and wire types (its endpoints are in src/resources/table.ts). */
export * from './client';
export * from './errors';
export * from './hostname';
export * from './rate-budget';
export * from './signing';
export * from './types';
export * from './validate';
