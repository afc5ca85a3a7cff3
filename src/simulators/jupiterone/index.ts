/** The JupiterOne synchronization API simulator: server, held graph and upload validation. */
export * from './graph';
export * from './server';
export * from './validation';
