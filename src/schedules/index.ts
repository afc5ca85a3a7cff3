/** Polling schedules: one Temporal Schedule per configured instance. */
export * from './spec';
export * from './compare';
export * from './format';
export * from './reconcile';
export * from './operations';
