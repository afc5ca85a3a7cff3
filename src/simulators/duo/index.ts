/** The Duo Admin API simulator, its tenant generator and its CLI runner. */
export * from './cli';
export * from './server';
export * from './signature-verifier';
export * from './tenant-generator';
