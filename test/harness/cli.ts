/**
 * The duo-j1 command as the tests run it: from the TypeScript sources (through tsx), so a test
 * never runs a stale build. The built command (`bin/duo-j1.js` → dist/) is what the package
 * tests run, from an installed tarball.
 */
import { ownProgramArgs } from '../../src/util/own-modules';

/** `node` arguments that run `duo-j1`; append the subcommand and its flags. */
export const DUO_J1_ARGS: readonly string[] = ownProgramArgs('cli/main');
