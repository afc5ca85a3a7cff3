#!/usr/bin/env node
// The duo-j1 command: the compiled code in dist/, which `npm run build` writes (`npm start`,
// `npm test` and `npm pack` build it first when the sources changed).
'use strict';
let cli;
try {
  cli = require('../dist/cli/main.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    console.error('duo-j1 is not built yet: run "npm run build" (or "npm start", which builds first).');
    process.exit(1);
  }
  throw error;
}
void cli.main();
