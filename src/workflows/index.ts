// The worker's workflowsPath: workflow functions only.
export { duoIngestion } from './duo-ingestion';
export { duoInstanceCoordinator } from './instance-coordinator';
export { duoLogTail } from './log-tail';
