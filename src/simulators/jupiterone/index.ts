/** The JupiterOne synchronization API simulator: server, held graph, upload validation and its CLI runner. */
export * from './cli';
export * from './graph';
export * from './server';
export * from './validation';
