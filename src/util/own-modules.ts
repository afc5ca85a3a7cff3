/**
 * Running duo-j1's own modules in another thread or process. duo-j1 runs either compiled (dist/:
 * the package, the `duo-j1` command, `npm start`) or from its TypeScript sources through tsx (the
 * tests, development). A thread or child process runs the same kind of code as its parent, so tests
 * of the sources never run stale compiled code, and the compiled package never needs tsx.
 */
import path from 'node:path';

/** `.ts` when running from the sources through tsx, `.js` when compiled. */
const EXTENSION = path.extname(__filename);
/** src/ or dist/. */
const CODE_ROOT = path.resolve(__dirname, '..');

/** The file of one of our modules, named by its path under src/ without an extension. */
export function ownModuleFile(modulePath: string): string {
  return path.join(CODE_ROOT, `${modulePath}${EXTENSION}`);
}

/** Node.js arguments that run one of our modules as a program, e.g. `cli/main`. */
export function ownProgramArgs(modulePath: string): string[] {
  const file = ownModuleFile(modulePath);
  return EXTENSION === '.ts' ? ['--require', require.resolve('tsx/cjs'), file] : [file];
}

/** Code for `new Worker(code, { eval: true })` that loads one of our modules in the thread. */
export function ownThreadCode(moduleFile: string): string {
  const load = `require(${JSON.stringify(`${moduleFile}${EXTENSION}`)});`;
  // tsx's loader is registered per thread.
  return EXTENSION === '.ts' ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});${load}` : load;
}
