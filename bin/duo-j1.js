#!/usr/bin/env node
// The duo-j1 command. The sources are TypeScript run through tsx's require hook (esbuild, cached),
// so a clone works without a separate build step.
'use strict';
require('tsx/cjs');
void require('../src/cli/main.ts').main();
